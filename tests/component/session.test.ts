import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import App from '../../src/App.vue'
import { PROTOCOL_VERSION } from '#shared/sync/protocol.ts'
import { useSessionStore } from '../../src/stores/useSessionStore.ts'
import { useSyncStore } from '../../src/stores/useSyncStore.ts'
import type { HttpTransport } from '../../src/sync/httpTransport.ts'
import { AuthError } from '../../src/sync/ports.ts'
import {
  NOW,
  WORKER,
  appRouter,
  mountWith,
  offlineTransport,
  sessionTokens,
  settle,
  setupEnv,
  type TestEnv,
  drainVantTimers,
} from './harness.ts'

afterAll(drainVantTimers)

let env: TestEnv | undefined
afterEach(async () => {
  document.body.innerHTML = ''
  await env?.close()
  env = undefined
})

const queuedDelete = (seq: number) => ({
  type: 'delete' as const,
  seq,
  kind: 'household' as const,
  id: `0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a${String(seq).padStart(2, '0')}`,
  stamp: '1760000000000:0000:device01',
  base: {},
  prev: {},
})

function typePassword(value: string) {
  const input = document.querySelector<HTMLInputElement>('input[data-testid="reauth-password"]')!
  input.value = value
  input.dispatchEvent(new Event('input'))
}

describe('session expired: the relogin dialog', () => {
  it('says the queued changes are kept, keeps the dialog open on a wrong password, and logs in again with relogin', async () => {
    const login = vi.fn(async ({ password }: { password: string }) => {
      if (password !== 'right-password') throw new AuthError('invalid credentials', 'invalid_credentials')
      return { ...sessionTokens('renewed'), user: WORKER }
    })
    env = await setupEnv({ transport: { ...offlineTransport(), login } })
    await env.db.outbox.bulkPut([queuedDelete(1), queuedDelete(2)])
    const router = await appRouter('/')
    const { wrapper } = mountWith(App, env, { router })
    const session = useSessionStore()
    const relogin = vi.spyOn(session, 'relogin')
    session.markNeedsReauth()
    await settle()
    await wrapper.get('[data-testid="reauth-open"]').trigger('click')
    await settle()
    expect(document.querySelector('[data-testid="reauth-note"]')?.textContent).toContain(
      '本机 2 条未同步的修改会保留',
    )

    document.querySelector<HTMLElement>('.van-dialog__confirm')!.click()
    await settle()
    expect(document.querySelector('.van-dialog .van-field__error-message')?.textContent).toBe('请输入密码')
    expect(relogin).not.toHaveBeenCalled()

    typePassword('wrong')
    document.querySelector<HTMLElement>('.van-dialog__confirm')!.click()
    await settle()
    expect(relogin).toHaveBeenLastCalledWith('wrong')
    expect(document.querySelector('.van-dialog .van-field__error-message')?.textContent).toBe(
      '用户名或密码错误',
    )
    expect(wrapper.find('[data-testid="reauth-banner"]').exists()).toBe(true)

    typePassword('right-password')
    document.querySelector<HTMLElement>('.van-dialog__confirm')!.click()
    await vi.waitFor(() => expect(wrapper.find('[data-testid="reauth-banner"]').exists()).toBe(false))
    expect(relogin).toHaveBeenLastCalledWith('right-password')
    expect(login).toHaveBeenLastCalledWith(expect.objectContaining({ username: 'worker1' }))
    expect(await env.db.outbox.count()).toBe(2)
  })
})

describe('remote wipe', () => {
  it('returns to the login screen with the notice once the device wiped itself', async () => {
    const confirmWiped = vi.fn(async () => undefined)
    const transport: HttpTransport = {
      ...offlineTransport(),
      confirmWiped,
      pull: async () => ({
        protocol: PROTOCOL_VERSION,
        clock: `${NOW}:0000:server`,
        records: [],
        cursor: 0,
        more: false,
        scopeKey: 'scope-1',
        wipe: true,
      }),
    }
    env = await setupEnv({ transport, online: true })
    const router = await appRouter('/')
    const { wrapper } = mountWith(App, env, { router })
    await settle()
    expect(wrapper.find('[data-testid="wiped-notice"]').exists()).toBe(false)

    await useSyncStore().syncNow()
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('login'))
    await settle()
    expect(confirmWiped).toHaveBeenCalled()
    expect(wrapper.get('[data-testid="wiped-notice"]').text()).toBe('此设备的数据已被管理员远程清除')
    expect(await env.db.getMeta('session')).toBeUndefined()
  })
})

describe('logging out with unsynced changes', () => {
  it('warns with the count of queued and refused changes, and cancelling keeps every one of them', async () => {
    env = await setupEnv()
    await env.db.outbox.put(queuedDelete(1))
    await env.db.refused.put({
      ...queuedDelete(2),
      code: 'out_of_scope',
      reason: '网格 330523101001009 不在你的管辖范围内',
      refusedAt: NOW,
    })
    const router = await appRouter('/settings')
    const { wrapper } = mountWith(App, env, { router })
    await settle()
    expect(wrapper.get('[data-testid="refused-reason"]').text()).toBe(
      '网格 330523101001009 不在你的管辖范围内',
    )

    await wrapper.get('[data-testid="logout"]').trigger('click')
    await settle()
    expect(document.querySelector('.van-dialog__message')?.textContent).toContain(
      '还有 2 条修改没有同步到服务器',
    )
    expect(document.querySelector('.van-dialog__confirm')?.textContent).toBe('仍然退出')
    document.querySelector<HTMLElement>('.van-dialog__cancel')!.click()
    await settle()
    expect(router.currentRoute.value.name).toBe('settings')
    expect(await env.db.outbox.count()).toBe(1)
    expect(await env.db.refused.count()).toBe(1)
    expect(await env.db.getMeta('session')).toBeDefined()
  })
})
