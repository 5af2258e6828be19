import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import App from '../../src/App.vue'
import { useSessionStore } from '../../src/stores/useSessionStore.ts'
import type { HttpTransport } from '../../src/sync/httpTransport.ts'
import { AuthError } from '../../src/sync/ports.ts'
import {
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

const TABS = ['tab-home', 'tab-household', 'tab-place', 'tab-incident', 'tab-map']

describe('App shell and routing', () => {
  it('sends a visitor without a session to the login page, keeping where they were going', async () => {
    env = await setupEnv({ loggedIn: false })
    const router = await appRouter('/records/place')
    expect(router.currentRoute.value.name).toBe('login')
    expect(router.currentRoute.value.query.redirect).toBe('/records/place')
    const { wrapper } = mountWith(App, env, { router })
    await settle()
    expect(wrapper.find('input[data-testid="login-username"]').exists()).toBe(true)
    expect(wrapper.find('input[data-testid="login-password"]').attributes('type')).toBe('password')
    expect(wrapper.find('[data-testid="tab-home"]').exists()).toBe(false)
  })

  it('logs in through the store and goes where the user was going; a refusal is shown in Chinese', async () => {
    const transport: HttpTransport = {
      ...offlineTransport(),
      login: vi.fn(async ({ password }: { password: string }) => {
        if (password !== 'right-password') throw new AuthError('invalid credentials')
        return { ...sessionTokens('fresh'), user: WORKER }
      }),
    }
    env = await setupEnv({ loggedIn: false, transport })
    const router = await appRouter('/records/place')
    const { wrapper } = mountWith(App, env, { router })
    await settle()
    await wrapper.get('[data-testid="login-username"]').setValue('worker1')
    await wrapper.get('[data-testid="login-password"]').setValue('wrong')
    await wrapper.get('form').trigger('submit')
    await settle()
    expect(wrapper.get('[data-testid="login-error"]').text()).toBe('用户名或密码错误')

    await wrapper.get('[data-testid="login-password"]').setValue('right-password')
    await wrapper.get('form').trigger('submit')
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe('/records/place'))
    await settle()
    for (const tab of TABS) expect(wrapper.find(`[data-testid="${tab}"]`).exists()).toBe(true)
    expect(wrapper.get('[data-testid="tab-place"]').attributes('aria-current')).toBe('page')
    expect(wrapper.get('[data-testid="tab-home"]').attributes('aria-current')).toBeUndefined()
  })

  it('titles a record form in the header, whose back button returns to its list', async () => {
    env = await setupEnv()
    const router = await appRouter('/records/household/new')
    const { wrapper } = mountWith(App, env, { router })
    await settle()
    expect(wrapper.get('.gp-header-title').text()).not.toBe('')
    expect(wrapper.find('[data-testid="tab-home"]').attributes('aria-current')).toBeUndefined()
    await wrapper.get('[data-testid="nav-back"]').trigger('click')
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe('/records/household'))
    await settle()
    expect(wrapper.find('[data-testid="nav-back"]').exists()).toBe(false)
    expect(wrapper.get('[data-testid="tab-household"]').attributes('aria-current')).toBe('page')
  })

  it('shows home with the sync card for a stored session, and a re-login banner when the token expired', async () => {
    env = await setupEnv()
    const router = await appRouter('/')
    expect(router.currentRoute.value.name).toBe('home')
    const { wrapper } = mountWith(App, env, { router })
    await settle()
    expect(wrapper.find('[data-testid="unsynced-count"]').exists()).toBe(true)
    expect(wrapper.get('[data-testid="tab-home"]').attributes('aria-current')).toBe('page')
    expect(wrapper.find('[data-testid="reauth-banner"]').exists()).toBe(false)

    useSessionStore().markNeedsReauth()
    await settle()
    expect(wrapper.get('[data-testid="reauth-banner"]').text()).toContain('未同步的修改会保留')
  })

  it('asks for the password again when the token expired, keeping the queued changes', async () => {
    const login = vi.fn(async () => ({ ...sessionTokens('renewed'), user: WORKER }))
    env = await setupEnv({ transport: { ...offlineTransport(), login } })
    await env.db.outbox.put({
      type: 'delete',
      seq: 1,
      kind: 'household',
      id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
      stamp: '1760000000000:0000:device01',
      base: {},
      prev: {},
    })
    const router = await appRouter('/')
    const { wrapper } = mountWith(App, env, { router })
    useSessionStore().markNeedsReauth()
    await settle()
    await wrapper.get('[data-testid="reauth-open"]').trigger('click')
    await settle()
    const password = document.querySelector<HTMLInputElement>('input[data-testid="reauth-password"]')!
    password.value = 'again'
    password.dispatchEvent(new Event('input'))
    document.querySelector<HTMLElement>('.van-dialog__confirm')!.click()
    await vi.waitFor(() => expect(wrapper.find('[data-testid="reauth-banner"]').exists()).toBe(false))
    expect(login).toHaveBeenCalledWith(expect.objectContaining({ username: 'worker1', password: 'again' }))
    expect(await env.db.outbox.count()).toBe(1)
    expect(wrapper.get('[data-testid="unsynced-count"]').text()).toBe('未同步 1 条')
  })

  it('turns an unknown record kind into the not-found page', async () => {
    env = await setupEnv()
    const router = await appRouter('/records/cattle')
    expect(router.currentRoute.value.name).toBe('not-found')
  })
})
