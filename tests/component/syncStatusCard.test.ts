import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import SyncStatusCard from '../../src/components/sync/SyncStatusCard.vue'
import { useRecordsStore } from '../../src/stores/useRecordsStore.ts'
import { useSyncStore } from '../../src/stores/useSyncStore.ts'
import type { RefusedOp } from '../../src/db/GridPatrolDb.ts'
import { GRID_A, NOW, mountWith, setOnline, settle, setupEnv, type TestEnv } from './harness.ts'

let env: TestEnv
beforeEach(async () => {
  env = await setupEnv()
})
afterEach(async () => {
  setOnline(true)
  document.body.innerHTML = ''
  await env.close()
})

const refusedOp = (seq: number, overrides: Record<string, unknown> = {}): RefusedOp =>
  ({
    type: 'put',
    seq,
    kind: 'household',
    id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
    stamp: `${NOW}:0000:device01`,
    base: {},
    create: false,
    fields: { headPhone: '1234' },
    prev: {},
    code: 'invalid_field',
    reason: '手机号应为11位数字',
    field: 'headPhone',
    refusedAt: NOW,
    ...overrides,
  }) as RefusedOp

describe('SyncStatusCard', () => {
  it('shows the number of unsynced changes, offline, never synced', async () => {
    const records = useRecordsStore()
    for (const headName of ['王一', '王二', '王三'])
      await records.create('household', { gridId: GRID_A, address: '横山村1号', housing: 'owned', headName })
    const { wrapper } = mountWith(SyncStatusCard, env)
    setOnline(false)
    await vi.waitFor(() => expect(wrapper.get('[data-testid="unsynced-count"]').text()).toBe('未同步 3 条'))
    expect(wrapper.get('[data-testid="online-status"]').attributes('data-online')).toBe('false')
    expect(wrapper.get('[data-testid="online-status"]').text()).toBe('离线')
    expect(wrapper.get('[data-testid="last-sync"]').text()).toBe('尚未同步')
    setOnline(true)
    await settle()
    expect(wrapper.get('[data-testid="online-status"]').text()).toBe('在线')
  })

  it('lists refused changes with their reasons until dismissed', async () => {
    await env.db.refused.bulkPut([
      refusedOp(7),
      refusedOp(8, {
        code: 'clock_skew',
        reason: '手机时间比服务器快 12 分钟，请校准时间',
        field: undefined,
      }),
    ])
    const sync = useSyncStore()
    const dismiss = vi.spyOn(sync, 'dismissRefused').mockResolvedValue()
    const { wrapper } = mountWith(SyncStatusCard, env)
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid="refused-item"]')).toHaveLength(2))
    const list = wrapper.get('[data-testid="refused-list"]')
    expect(list.text()).toContain('被服务器拒绝的修改（2）')
    const reasons = wrapper.findAll('[data-testid="refused-reason"]').map((r) => r.text())
    expect(reasons).toEqual(['手机号应为11位数字', '手机时间比服务器快 12 分钟，请校准时间'])
    expect(list.text()).toContain('内容不符合要求')
    expect(list.text()).toContain('字段：户主电话')
    expect(list.text()).toContain('手机时间不准')

    // Discarding undoes the change on the phone: only after the user confirms.
    await wrapper.findAll('[data-testid="refused-dismiss"]')[1]!.trigger('click')
    await settle()
    expect(document.body.textContent).toContain('放弃后，这条修改会从本机撤销')
    expect(dismiss).not.toHaveBeenCalled()
    document.querySelector<HTMLElement>('.van-dialog__confirm')!.click()
    await vi.waitFor(() => expect(dismiss).toHaveBeenCalledWith(8))

    const retry = vi.spyOn(sync, 'retryRefused').mockResolvedValue(true)
    await wrapper.findAll('[data-testid="refused-retry"]')[0]!.trigger('click')
    expect(retry).toHaveBeenCalledWith(7)
  })

  it('syncs on demand and shows progress and the last error in words', async () => {
    const sync = useSyncStore()
    const syncNow = vi.spyOn(sync, 'syncNow').mockResolvedValue(false)
    const { wrapper } = mountWith(SyncStatusCard, env)
    await settle()
    expect(wrapper.find('[data-testid="sync-error"]').exists()).toBe(false)
    await wrapper.get('[data-testid="sync-now"]').trigger('click')
    expect(syncNow).toHaveBeenCalledTimes(1)

    sync.$patch({ syncing: true, progress: { phase: 'push', done: 3, total: 12 } })
    await settle()
    expect(wrapper.get('[data-testid="sync-progress"]').text()).toContain('正在上传 3/12')
    expect(wrapper.get('.van-progress__portion').attributes('style')).toContain('25%')

    sync.$patch({
      syncing: false,
      progress: null,
      lastError: 'network error: TypeError: Failed to fetch',
      lastErrorKind: 'network',
      lastSyncAt: NOW,
    })
    await settle()
    expect(wrapper.find('[data-testid="sync-progress"]').exists()).toBe(false)
    expect(wrapper.get('[data-testid="sync-error"]').text()).toBe(
      '同步失败：无法连接服务器，联网后会自动重试',
    )
    expect(wrapper.get('[data-testid="last-sync"]').attributes('data-last-sync')).toBe(String(NOW))
  })

  it("says how many records left the phone when the user's areas changed", async () => {
    const { wrapper } = mountWith(SyncStatusCard, env)
    await settle()
    expect(wrapper.find('[data-testid="scope-evicted"]').exists()).toBe(false)
    useSyncStore().lastEvicted = 3
    await settle()
    expect(wrapper.get('[data-testid="scope-evicted"]').text()).toBe(
      '管辖范围已变化：3 条不再属于你的记录已从本机移除',
    )
  })
})
