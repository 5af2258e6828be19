import { afterAll, afterEach, describe, expect, it } from 'vitest'
import App from '../../src/App.vue'
import type { SessionUser } from '#shared/schemas/api.ts'
import {
  ADMIN,
  HANDLER,
  LEADER,
  WORKER,
  appRouter,
  mountWith,
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

async function mountAs(user: SessionUser, path = '/') {
  env = await setupEnv({ user })
  const router = await appRouter(path)
  const { wrapper } = mountWith(App, env, { router })
  await settle()
  return { wrapper, router }
}

const tabsOf = (wrapper: Awaited<ReturnType<typeof mountAs>>['wrapper']) =>
  wrapper.findAll('[data-testid^="tab-"]').map((tab) => tab.attributes('data-testid'))

describe('roles in the UI', () => {
  it('gives a worker every tab, both quick actions and the role in the greeting', async () => {
    const { wrapper } = await mountAs(WORKER)
    expect(tabsOf(wrapper)).toEqual(['tab-home', 'tab-household', 'tab-place', 'tab-incident', 'tab-map'])
    expect(wrapper.get('[data-testid="greeting"]').text()).toBe('你好，李网格（网格员）')
    expect(wrapper.find('[data-testid="quick-incident"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="quick-household"]').exists()).toBe(true)
  })

  it('shows a handler only 首页, 事件 and 地图, and sends them home from the household and place routes', async () => {
    const { wrapper, router } = await mountAs(HANDLER)
    expect(tabsOf(wrapper)).toEqual(['tab-home', 'tab-incident', 'tab-map'])
    expect(wrapper.findAll('[data-testid="tab-incident"]')[0]!.text()).toBe('事件')
    expect(wrapper.get('[data-testid="greeting"]').text()).toBe('你好，水利站（责任单位）')
    // A handler reports on incidents but does not create records: no quick actions, no household counts.
    expect(wrapper.find('[data-testid="quick-incident"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="quick-household"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="count-household"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="count-incident"]').exists()).toBe(true)

    for (const path of ['/records/household', '/records/place/new', '/records/incident/new', '/admin']) {
      await router.push(path)
      expect(router.currentRoute.value.name, path).toBe('home')
    }
    await router.push('/records/incident')
    expect(router.currentRoute.value.name).toBe('record-list')
    await settle()
    expect(wrapper.find('[data-testid="add-record"]').exists()).toBe(false)
  })

  it('keeps /admin and its settings entry for admins', async () => {
    const leader = await mountAs(LEADER, '/settings')
    expect(leader.wrapper.find('[data-testid="open-admin"]').exists()).toBe(false)
    await leader.router.push('/admin')
    expect(leader.router.currentRoute.value.name).toBe('home')
    document.body.innerHTML = ''
    await env?.close()

    const admin = await mountAs(ADMIN, '/settings')
    expect(admin.wrapper.get('[data-testid="open-admin"]').text()).toContain('管理后台')
    await admin.router.push('/admin')
    expect(admin.router.currentRoute.value.name).toBe('admin')
    await settle()
    const titles = admin.wrapper.findAll('[data-testid="admin-tabs"] .van-tab').map((tab) => tab.text())
    expect(titles).toEqual(['区域', '用户', '设备', '审计'])
    // Offline, the admin screen says so instead of showing an empty tree.
    expect(admin.wrapper.get('[data-testid="areas-error"]').text()).toContain('无法连接服务器')
  })
})
