/**
 * Component-test wiring: the real Pinia stores on a fresh fake-indexeddb database (the `component` project loads
 * fake-indexeddb/auto), a fake transport that never touches the network, zh-CN i18n and a memory-history router.
 */
import { v7 } from 'uuid'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { flushPromises, mount, type ComponentMountingOptions } from '@vue/test-utils'
import type { Component } from 'vue'
import { createMemoryHistory, type Router } from 'vue-router'
import { GridPatrolDb } from '../../src/db/GridPatrolDb.ts'
import type { AreaRow } from '../../src/db/GridPatrolDb.ts'
import type { HttpTransport } from '../../src/sync/httpTransport.ts'
import type { AdminApi } from '../../src/sync/adminApi.ts'
import type { SessionUser } from '#shared/schemas/api.ts'
import { TransportError } from '../../src/sync/ports.ts'
import { resetServices, setServices } from '../../src/stores/services.ts'
import { useSyncStore } from '../../src/stores/useSyncStore.ts'
import { createAppI18n, type AppLocale } from '../../src/i18n/index.ts'
import { createAppRouter } from '../../src/router.ts'

export const NOW = 1_760_000_000_000
export const GRID_A = '330523101001001'
export const GRID_B = '330523101001002'

const square = (lng: number, lat: number) => ({
  type: 'Polygon' as const,
  coordinates: [
    [
      [lng, lat],
      [lng + 0.01, lat],
      [lng + 0.01, lat + 0.01],
      [lng, lat + 0.01],
      [lng, lat],
    ],
  ],
})

export const AREAS: AreaRow[] = [
  { id: '330523', level: 'county', name: '安吉县', parentId: null, geometry: null },
  { id: '330523101', level: 'town', name: '递铺街道', parentId: '330523', geometry: null },
  { id: '330523101001', level: 'village', name: '横山村', parentId: '330523101', geometry: null },
  {
    id: GRID_A,
    level: 'grid',
    name: '横山村第一网格',
    parentId: '330523101001',
    geometry: square(119.6, 30.6),
  },
  {
    id: GRID_B,
    level: 'grid',
    name: '横山村第二网格',
    parentId: '330523101001',
    geometry: square(119.61, 30.6),
  },
]

export const WORKER = {
  id: 'u-worker',
  username: 'worker1',
  displayName: '李网格',
  role: 'worker' as const,
  areaIds: [GRID_A, GRID_B],
}

/** The same grids seen by the other roles (a leader and an admin over the town, a handler over the village). */
export const LEADER: SessionUser = {
  id: 'u-leader',
  username: 'leader_town',
  displayName: '王站长',
  role: 'leader',
  areaIds: ['330523101'],
}
export const HANDLER: SessionUser = {
  id: 'u-handler',
  username: 'handler',
  displayName: '水利站',
  role: 'handler',
  areaIds: ['330523101001'],
}
export const ADMIN: SessionUser = {
  id: 'u-admin',
  username: 'admin',
  displayName: '赵管理',
  role: 'admin',
  areaIds: ['330523'],
}

/** An admin API that behaves like a phone without signal; tests replace the calls they need. */
export function offlineAdmin(): AdminApi {
  const fail = () => Promise.reject(new TransportError('network error: offline'))
  return {
    listAreas: fail,
    createArea: fail,
    updateArea: fail,
    listUsers: fail,
    createUser: fail,
    updateUser: fail,
    listDevices: fail,
    wipeDevice: fail,
    audit: fail,
  }
}

/** A transport that behaves like a phone without signal. */
export function offlineTransport(): HttpTransport {
  const fail = () => Promise.reject(new TransportError('network error: offline'))
  return {
    push: fail,
    pull: fail,
    confirmWiped: fail,
    login: fail,
    logout: fail,
    fetchAreas: fail,
    fetchConfig: fail,
    unmask: fail,
  }
}

/** The tokens of a login response (the session shape since accounts and scope). */
export const sessionTokens = (name: string) => ({
  accessToken: `${name}-access-token`,
  accessExpiresAt: NOW + 15 * 60_000,
  refreshToken: `${name}-refresh-token`,
  refreshExpiresAt: NOW + 30 * 86_400_000,
})

let count = 0

export interface TestEnv {
  db: GridPatrolDb
  pinia: Pinia
  close(): Promise<void>
}

/** A fresh database (optionally with a logged-in worker and the areas cached) and a fresh Pinia. */
export async function setupEnv(
  options: {
    loggedIn?: boolean
    /** The logged-in user (default: the worker). */
    user?: SessionUser
    now?: () => number
    transport?: HttpTransport
    admin?: AdminApi
    /** What the services report as connectivity (default: offline). */
    online?: boolean
  } = {},
): Promise<TestEnv> {
  resetServices()
  const db = new GridPatrolDb(`gridpatrol-component-${process.pid}-${++count}-${v7()}`)
  setServices({
    db,
    transport: options.transport ?? offlineTransport(),
    admin: options.admin ?? offlineAdmin(),
    now: options.now ?? (() => NOW),
    isOnline: () => options.online ?? false,
    random: () => 0.5,
  })
  if (options.loggedIn ?? true) {
    await db.setMeta('session', { ...sessionTokens('test'), user: options.user ?? WORKER })
    await db.areas.bulkPut(AREAS)
  }
  const pinia = createPinia()
  setActivePinia(pinia)
  return {
    db,
    pinia,
    async close() {
      // Stop the sync scheduler's timers if a test started it (e.g. through a real login).
      if (pinia.state.value['sync']) useSyncStore(pinia).stop()
      db.close()
      await db.delete()
      resetServices()
    },
  }
}

export function mountWith<C extends Component>(
  component: C,
  env: TestEnv,
  options: ComponentMountingOptions<C> & { locale?: AppLocale; router?: Router } = {},
) {
  const i18n = createAppI18n(options.locale ?? 'zh-CN')
  const { locale: _locale, router, global, ...rest } = options
  const plugins = [env.pinia, i18n, ...(router ? [router] : []), ...(global?.plugins ?? [])]
  const wrapper = mount(component, {
    ...(rest as ComponentMountingOptions<C>),
    global: { ...global, plugins },
    attachTo: document.body,
  })
  return { wrapper, i18n, router }
}

/** The app's router on a memory history, at `path` once its guards have run. */
export async function appRouter(path = '/'): Promise<Router> {
  const router = createAppRouter(createMemoryHistory())
  await router.push(path)
  await router.isReady()
  return router
}

/** Pretend the phone lost or regained its signal (happy-dom is always online). */
export function setOnline(online: boolean): void {
  Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => online })
  window.dispatchEvent(new Event(online ? 'online' : 'offline'))
}

/** Let Dexie live queries and Vue settle. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await flushPromises()
    await new Promise((resolve) => setTimeout(resolve, 0))
  }
}

/**
 * Vant's safe-area placeholders (tab bar, nav bar) measure themselves again 100, 200 and 300 ms after mounting.
 * A file that mounts them waits for those timers in afterAll, or they fire after the DOM environment is gone.
 */
export function drainVantTimers(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 350))
}
