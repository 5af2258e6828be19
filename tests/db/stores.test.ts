import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, disposePinia, setActivePinia } from 'pinia'
import type { Pinia } from 'pinia'
import { v7 } from 'uuid'
import { GridPatrolDb } from '../../src/db/GridPatrolDb.ts'
import type { Area } from '#shared/schemas/api.ts'
import type { HttpTransport } from '../../src/sync/httpTransport.ts'
import { AuthError } from '../../src/sync/ports.ts'
import { resetServices, setServices } from '../../src/stores/services.ts'
import { useAreasStore } from '../../src/stores/useAreasStore.ts'
import { useRecordsStore } from '../../src/stores/useRecordsStore.ts'
import { useSessionStore } from '../../src/stores/useSessionStore.ts'
import { useSyncStore } from '../../src/stores/useSyncStore.ts'
import { FakeServer } from './fakeServer.ts'
import { GRID, T0, freshDbName, household } from './testDevice.ts'

const square = (x: number) => ({
  type: 'Polygon' as const,
  coordinates: [
    [
      [x, 30],
      [x + 0.01, 30],
      [x + 0.01, 30.01],
      [x, 30],
    ],
  ],
})
const AREAS: Area[] = [
  { id: '330523', level: 'county', name: '安吉县', parentId: null, geometry: null },
  { id: '330523101', level: 'town', name: '递铺街道', parentId: '330523', geometry: null },
  { id: '330523101001', level: 'village', name: '横山村', parentId: '330523101', geometry: null },
  { id: GRID, level: 'grid', name: '横山村第一网格', parentId: '330523101001', geometry: square(119.6) },
  {
    id: '330523101001002',
    level: 'grid',
    name: '横山村第二网格',
    parentId: '330523101001',
    geometry: square(119.7),
  },
]

let server: FakeServer
let api: HttpTransport & { failAreas: boolean }
let db: GridPatrolDb
let pinia: Pinia

beforeEach(() => {
  server = new FakeServer()
  api = {
    failAreas: false,
    push: (request) => server.push(request),
    pull: (query) => server.pull(query),
    confirmWiped: () => server.confirmWiped(),
    unmask: async () => {
      throw new Error('not used here')
    },
    async login({ username, password }) {
      if (password !== 'secret') throw new AuthError('用户名或密码错误', 'invalid_credentials')
      const id = username === 'worker1' ? 'u1' : 'u2'
      return {
        accessToken: `access-${id}`,
        accessExpiresAt: T0 + 900_000,
        refreshToken: `refresh-${id}`,
        refreshExpiresAt: T0 + 86_400_000,
        user: { id, username, displayName: username, role: 'worker', areaIds: [GRID] },
      }
    },
    logout: async () => undefined,
    async fetchAreas() {
      if (api.failAreas) throw new Error('offline')
      return structuredClone(AREAS)
    },
    fetchConfig: async () => ({
      basemapUrl: '',
      basemapAttribution: '',
      maxClockDriftMs: 300_000,
      protocol: 1,
    }),
  }
  db = new GridPatrolDb(freshDbName())
  setServices({
    db,
    transport: api,
    now: () => T0,
    random: () => 0.5,
    newId: () => v7(),
    isOnline: () => true,
  })
  pinia = createPinia()
  setActivePinia(pinia)
})

afterEach(async () => {
  disposePinia(pinia)
  resetServices()
  await db.delete()
})

describe('stores', () => {
  it('records go into live lists and counts, and syncNow pushes them', async () => {
    const session = useSessionStore()
    await session.login('worker1', 'secret')
    expect(session.isLoggedIn).toBe(true)
    expect(session.user?.displayName).toBe('worker1')
    const records = useRecordsStore()
    const sync = useSyncStore()
    await sync.syncNow()
    sync.stop() // no background runs: this test syncs by hand
    const id = await records.create('household', household())
    await vi.waitFor(() => expect(records.listOf('household').map((r) => r.id)).toEqual([id]))
    await vi.waitFor(() => expect(records.counts.household).toBe(1))
    await vi.waitFor(() => expect(sync.unsyncedCount).toBe(1))

    expect(await sync.syncNow()).toBe(true)
    expect(server.state(id)).toBeDefined()
    await vi.waitFor(() => expect(sync.unsyncedCount).toBe(0))
    await vi.waitFor(() => expect(sync.lastSyncAt).toBe(T0))

    await records.remove('household', id)
    await vi.waitFor(() => expect(records.counts.household).toBe(0))
    expect(records.listOf('household')).toEqual([])
  })

  it('logout refuses while changes are unsynced; forced, it wipes local data but keeps the device identity', async () => {
    const session = useSessionStore()
    await session.login('worker1', 'secret')
    useSyncStore().stop()
    await useRecordsStore().create('household', household())
    const deviceId = session.deviceId

    expect(await session.logout()).toEqual({ ok: false, reason: 'unsynced', unsynced: 1 })
    expect(session.isLoggedIn).toBe(true)
    expect(await db.outbox.count()).toBe(1)

    expect(await session.logout({ force: true })).toEqual({ ok: true })
    expect(session.isLoggedIn).toBe(false)
    expect(await db.records.count()).toBe(0)
    expect(await db.getMeta('session')).toBeUndefined()
    expect(await db.getMeta('deviceId')).toBe(deviceId)
    expect(await db.getMeta('lastOpSeq')).toBe(1)
  })

  it('a 401 during sync asks for the password again and keeps the session and the queued changes', async () => {
    const session = useSessionStore()
    const sync = useSyncStore()
    await session.login('worker1', 'secret')
    await sync.syncNow()
    await useRecordsStore().create('household', household())
    server.unauthorized = true

    expect(await sync.syncNow()).toBe(false)
    expect(session.needsReauth).toBe(true)
    expect(session.isLoggedIn).toBe(true)
    expect(sync.lastErrorKind).toBe('auth')
    expect(await db.outbox.count()).toBe(1)

    server.unauthorized = false
    await session.login('worker1', 'secret')
    expect(session.needsReauth).toBe(false)
    await sync.syncNow()
    expect(await db.outbox.count()).toBe(0)
    expect(sync.lastError).toBeNull()
  })

  it('a wrong password is a LoginError with a code and a Chinese message', async () => {
    await expect(useSessionStore().login('worker1', 'nope')).rejects.toMatchObject({
      code: 'invalid_credentials',
      message: '用户名或密码错误',
    })
  })

  it('refused ops are listed with their reason until dismissed', async () => {
    server.refuse = () => ({ code: 'out_of_scope', reason: '不在您的网格内', field: 'gridId' })
    const session = useSessionStore()
    const sync = useSyncStore()
    await session.login('worker1', 'secret')
    const id = await useRecordsStore().create('household', household())
    await sync.syncNow()
    await vi.waitFor(() => expect(sync.refused).toHaveLength(1))
    expect(sync.refused[0]).toMatchObject({
      kind: 'household',
      recordId: id,
      code: 'out_of_scope',
      reason: '不在您的网格内',
      field: 'gridId',
    })
    await sync.dismissRefused(sync.refused[0]!.seq)
    await vi.waitFor(() => expect(sync.refused).toHaveLength(0))
  })

  it('areas are cached for offline use and grids are filtered to the user', async () => {
    const session = useSessionStore()
    await session.login('worker1', 'secret')
    const areas = useAreasStore()
    expect(await areas.load()).toBe(true)
    await vi.waitFor(() => expect(areas.grids).toHaveLength(2))
    expect(areas.gridsForUser.map((g) => g.id)).toEqual([GRID])
    expect(areas.config?.protocol).toBe(1)

    api.failAreas = true
    expect(await areas.load()).toBe(false)
    expect(areas.error).toBe('offline')
    expect(await db.areas.count()).toBe(AREAS.length)
  })
})
