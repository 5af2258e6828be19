import { afterEach, describe, expect, it, vi } from 'vitest'
import type { AdminDevice, AuditEntry } from '#shared/schemas/admin.ts'
import AdminDevicesPanel from '../../src/components/admin/AdminDevicesPanel.vue'
import AdminAuditPanel from '../../src/components/admin/AdminAuditPanel.vue'
import { ADMIN, NOW, mountWith, offlineAdmin, settle, setupEnv, type TestEnv } from './harness.ts'

let env: TestEnv | undefined
afterEach(async () => {
  document.body.innerHTML = ''
  await env?.close()
  env = undefined
})

const device = (id: string, extra: Partial<AdminDevice> = {}): AdminDevice => ({
  id,
  userId: '3',
  username: 'worker1',
  displayName: '李网格',
  lastSeenAt: NOW,
  wipeRequestedAt: null,
  wipedAt: null,
  ...extra,
})

const confirmButton = () => document.querySelector<HTMLElement>('.van-dialog__confirm')!
const cancelButton = () => document.querySelector<HTMLElement>('.van-dialog__cancel')!

describe('admin devices', () => {
  it('shows each device with its user, last contact and status, and wipes one only after a confirmation', async () => {
    const wipeDevice = vi.fn(async (id: string) => device(id, { wipeRequestedAt: NOW + 1 }))
    const devices = [
      device('dev-lost'),
      device('dev-pending', { wipeRequestedAt: NOW - 10, lastSeenAt: NOW - 100 }),
      device('dev-gone', { wipeRequestedAt: NOW - 20, wipedAt: NOW - 5, lastSeenAt: NOW - 200 }),
    ]
    env = await setupEnv({
      user: ADMIN,
      online: true,
      admin: { ...offlineAdmin(), listDevices: async () => devices, wipeDevice },
    })
    const { wrapper } = mountWith(AdminDevicesPanel, env)
    await settle()
    const status = () =>
      wrapper
        .findAll('[data-testid="device-item"]')
        .map((item) => [
          item.attributes('data-device-id'),
          item.get('[data-testid="device-status"]').text(),
          item.find('[data-testid="device-wipe"]').exists(),
        ])
    expect(status()).toEqual([
      ['dev-lost', '正常', true],
      ['dev-pending', '待清除', false],
      ['dev-gone', '已清除', false],
    ])
    expect(wrapper.get('[data-testid="device-item"]').text()).toContain('李网格（worker1）')
    expect(wrapper.get('[data-testid="device-item"]').text()).toContain('最近联网')

    await wrapper.get('[data-testid="device-wipe"]').trigger('click')
    await settle()
    expect(document.querySelector('.van-dialog__message')?.textContent).toContain(
      '确定远程清除 李网格（worker1）',
    )
    cancelButton().click()
    await settle()
    expect(wipeDevice).not.toHaveBeenCalled()

    await wrapper.get('[data-testid="device-wipe"]').trigger('click')
    await settle()
    confirmButton().click()
    await settle()
    expect(wipeDevice).toHaveBeenCalledWith('dev-lost')
    expect(status()[0]).toEqual(['dev-lost', '待清除', false])
  })
})

describe('admin audit log', () => {
  const entry = (id: number, extra: Partial<AuditEntry> = {}): AuditEntry => ({
    id: String(id),
    at: NOW - id * 60_000,
    userId: '2',
    username: 'leader_town',
    deviceId: 'dev-1',
    action: 'unmask',
    recordKind: 'household',
    recordId: `rec-${id}`,
    field: 'headPhone',
    ...extra,
  })

  it('shows time, who, action, record and field, and loads older pages', async () => {
    const audit = vi.fn(async ({ before }: { before?: string | number | null } = {}) =>
      before === undefined || before === null
        ? {
            entries: [
              entry(1),
              entry(2, { action: 'device_wipe_requested', recordKind: null, recordId: null, field: null }),
            ],
            next: 2,
          }
        : {
            entries: [
              entry(3, {
                action: 'user_created',
                username: 'admin',
                recordKind: null,
                recordId: null,
                field: null,
              }),
            ],
            next: null,
          },
    )
    env = await setupEnv({ user: ADMIN, online: true, admin: { ...offlineAdmin(), audit } })
    const { wrapper } = mountWith(AdminAuditPanel, env)
    await settle()
    const items = () => wrapper.findAll('[data-testid="audit-item"]')
    expect(items()).toHaveLength(2)
    const first = items()[0]!
    expect(first.text()).toContain('查看敏感信息')
    expect(first.get('[data-testid="audit-who"]').text()).toBe('操作人：leader_town')
    expect(first.get('[data-testid="audit-record"]').text()).toBe('记录：住户 rec-1')
    expect(first.get('[data-testid="audit-field"]').text()).toBe('字段：户主电话')
    expect(items()[1]!.text()).toContain('远程清除设备')
    expect(items()[1]!.find('[data-testid="audit-record"]').exists()).toBe(false)

    await wrapper.get('[data-testid="audit-more"]').trigger('click')
    await settle()
    expect(audit).toHaveBeenLastCalledWith(expect.objectContaining({ before: 2 }))
    expect(items().map((item) => item.attributes('data-action'))).toEqual([
      'unmask',
      'device_wipe_requested',
      'user_created',
    ])
    expect(wrapper.find('[data-testid="audit-more"]').exists()).toBe(false)
  })
})
