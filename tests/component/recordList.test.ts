import { enableAutoUnmount } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import RecordListView from '../../src/views/RecordListView.vue'
import { useRecordsStore } from '../../src/stores/useRecordsStore.ts'
import { GRID_A, GRID_B, NOW, mountWith, settle, setupEnv, type TestEnv } from './harness.ts'

// Unmount each test's components (their draft timers and stores) before the next test's Pinia is active.
enableAutoUnmount(afterEach)

let env: TestEnv
let clock = NOW
beforeEach(async () => {
  clock = NOW
  env = await setupEnv({ now: () => (clock += 1000) })
})
afterEach(async () => {
  document.body.innerHTML = ''
  await env.close()
})

describe('RecordListView', () => {
  it('lists newest first, marks unsynced rows and filters by text', async () => {
    const records = useRecordsStore(env.pinia)
    const base = { gridId: GRID_A, housing: 'owned' }
    const first = await records.create('household', { ...base, address: '横山村1号', headName: '张三' })
    const second = await records.create('household', { ...base, address: '横山村2号', headName: '李四' })
    const third = await records.create('household', { ...base, address: '鹤鹿溪村5号', headName: '王五' })
    // The first one reached the server: an acknowledgement only takes its op out of the outbox.
    await env.db.outbox.where('id').equals(first).delete()

    const { wrapper } = mountWith(RecordListView, env, { props: { kind: 'household' } })
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid="record-item"]')).toHaveLength(3))
    await settle()
    const rows = wrapper.findAll('[data-testid="record-item"]')
    expect(rows.map((r) => r.attributes('data-record-id'))).toEqual([third, second, first])
    expect(rows[0]!.text()).toContain('鹤鹿溪村5号')
    expect(rows[0]!.text()).toContain('王五 · 自有')
    expect(rows.map((r) => r.find('[data-testid="record-unsynced"]').exists())).toEqual([true, true, false])
    // The third is acknowledged while the list is shown: its mark goes, though no record was written.
    await env.db.outbox.where('id').equals(third).delete()
    await vi.waitFor(() =>
      expect(
        wrapper
          .findAll('[data-testid="record-item"]')
          .map((r) => r.find('[data-testid="record-unsynced"]').exists()),
      ).toEqual([false, true, false]),
    )

    // The search is debounced as the user types.
    await wrapper.get('[data-testid="record-search"] input').setValue('李四')
    await vi.waitFor(() =>
      expect(
        wrapper.findAll('[data-testid="record-item"]').map((r) => r.attributes('data-record-id')),
      ).toEqual([second]),
    )
    await wrapper.get('[data-testid="record-search"] input').setValue('没有这个人')
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid="record-item"]')).toHaveLength(0))
    await vi.waitFor(() => expect(wrapper.text()).toContain('没有符合条件的记录'))
  })

  it('filters households by grid through the store search', async () => {
    const records = useRecordsStore(env.pinia)
    const base = { housing: 'owned', headName: '户主' }
    const inA = await records.create('household', { ...base, gridId: GRID_A, address: '横山村1号' })
    const inB = await records.create('household', { ...base, gridId: GRID_B, address: '横山村2号' })
    const search = vi.spyOn(records, 'search')
    const { wrapper } = mountWith(RecordListView, env, { props: { kind: 'household' } })
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid="record-item"]')).toHaveLength(2))
    expect(search).toHaveBeenCalled()
    const ids = () =>
      wrapper.findAll('[data-testid="record-item"]').map((r) => r.attributes('data-record-id'))
    expect(ids()).toEqual([inB, inA])
    // Choose the first grid in the grid filter.
    await wrapper.get('[data-testid="filter-grid"]').trigger('click')
    await wrapper.get('.van-dropdown-menu__item').trigger('click')
    await settle()
    const option = [...document.querySelectorAll<HTMLElement>('.van-dropdown-item__option')].find((el) =>
      el.textContent?.includes('横山村第一网格'),
    )
    option!.click()
    await vi.waitFor(() => expect(ids()).toEqual([inA]))
    expect(search).toHaveBeenLastCalledWith('household', '', expect.objectContaining({ gridId: GRID_A }))
  })

  it('shows incidents with their category, description and a coloured status tag', async () => {
    const records = useRecordsStore(env.pinia)
    await records.create('incident', {
      gridId: GRID_A,
      category: 'safety',
      description: '桥栏杆松动',
      urgency: 'urgent',
      status: 'returned',
      reportedAt: NOW,
    })
    const { wrapper } = mountWith(RecordListView, env, { props: { kind: 'incident' } })
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid="record-item"]')).toHaveLength(1))
    const row = wrapper.get('[data-testid="record-item"]')
    expect(row.text()).toContain('安全隐患')
    expect(row.text()).toContain('桥栏杆松动')
    expect(row.text()).toContain('紧急')
    const status = row.get('[data-status="returned"]')
    expect(status.text()).toBe('已退回')
    expect(status.get('.van-tag').classes()).toContain('van-tag--danger')
    expect(wrapper.find('[data-testid="add-record"]').exists()).toBe(true)
  })

  it('on a switch of kind drops the other kind’s rows at once and shows loading until the new page lands', async () => {
    const records = useRecordsStore(env.pinia)
    const household = await records.create('household', {
      gridId: GRID_A,
      housing: 'owned',
      address: '横山村1号',
      headName: '张三',
    })
    const incident = await records.create('incident', {
      gridId: GRID_A,
      category: 'safety',
      description: '桥栏杆松动',
      urgency: 'normal',
      status: 'reported',
      reportedAt: NOW,
    })
    const { wrapper } = mountWith(RecordListView, env, { props: { kind: 'household' } })
    const shown = () =>
      wrapper
        .findAll('[data-testid="record-item"]')
        .map((row) => `${row.attributes('data-kind')}:${row.attributes('data-record-id')}`)
    await vi.waitFor(() => expect(shown()).toEqual([`household:${household}`]))

    // Hold the incident page back, as a slow first load of the search index would.
    const search = records.search
    let release = () => {}
    const held = new Promise<void>((resolve) => (release = resolve))
    vi.spyOn(records, 'search').mockImplementation(async (...args) => {
      await held
      return search(...args)
    })
    await wrapper.setProps({ kind: 'incident' })
    await settle()
    expect(shown()).toEqual([])
    expect(wrapper.find('[data-testid="list-loading"]').exists()).toBe(true)
    release()
    await vi.waitFor(() => expect(shown()).toEqual([`incident:${incident}`]))
    expect(wrapper.find('[data-testid="list-loading"]').exists()).toBe(false)
    expect(wrapper.get('[data-testid="record-item"]').text()).toContain('桥栏杆松动')
  })
})
