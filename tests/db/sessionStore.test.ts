import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, disposePinia, setActivePinia } from 'pinia'
import type { Pinia } from 'pinia'
import { v7 } from 'uuid'
import type { SessionUser } from '#shared/schemas/api.ts'
import { GridPatrolDb } from '../../src/db/GridPatrolDb.ts'
import { createAdminApi } from '../../src/sync/adminApi.ts'
import { createApiClient } from '../../src/sync/apiClient.ts'
import { createHttpTransport } from '../../src/sync/httpTransport.ts'
import { resetServices, sessionTokenStore, setServices } from '../../src/stores/services.ts'
import { useRecordsStore } from '../../src/stores/useRecordsStore.ts'
import { useSessionStore } from '../../src/stores/useSessionStore.ts'
import { useSyncStore } from '../../src/stores/useSyncStore.ts'
import { FakeHttpServer } from './fakeHttpServer.ts'
import { GRID, T0, freshDbName, household } from './testDevice.ts'

const user = (id: string, username: string, role: SessionUser['role']): SessionUser => ({
  id,
  username,
  displayName: username,
  role,
  areaIds: [GRID],
})
const WORKER = user('u1', 'worker1', 'worker')

let http: FakeHttpServer
let db: GridPatrolDb
let pinia: Pinia
let online: boolean

beforeEach(() => {
  http = new FakeHttpServer()
  http.addUser(WORKER, 'secret')
  http.addUser(user('u2', 'leader1', 'leader'), 'secret')
  http.addUser(user('u3', 'handler1', 'handler'), 'secret')
  db = new GridPatrolDb(freshDbName())
  online = true
  const newId = () => v7()
  const client = createApiClient({ session: sessionTokenStore(() => db, newId), fetch: http.fetch })
  setServices({
    db,
    transport: createHttpTransport(client),
    admin: createAdminApi(client),
    now: () => T0,
    random: () => 0.5,
    newId,
    isOnline: () => online,
  })
  pinia = createPinia()
  setActivePinia(pinia)
})

afterEach(async () => {
  useSyncStore().stop()
  disposePinia(pinia)
  resetServices()
  await db.delete()
})

/** Log in and let the first sync run finish. */
async function start(username = 'worker1') {
  const session = useSessionStore()
  const sync = useSyncStore()
  await session.login(username, 'secret')
  await sync.syncNow()
  return { session, sync, records: useRecordsStore() }
}

describe('session, tokens and wipe through the stores', () => {
  it('login resolves only once the grids are cached, so the forms work when the phone goes offline right after', async () => {
    http.areas = [{ id: GRID, level: 'grid', name: '余村第一网格', parentId: null, geometry: null }]
    await useSessionStore().login('worker1', 'secret')
    expect((await db.areas.toArray()).map((a) => a.id)).toEqual([GRID])
  })

  it('an expired access token is renewed during sync without asking the user', async () => {
    const { session, sync, records } = await start()
    const before = (await db.getMeta('session'))!
    const id = await records.create('household', household())
    http.expireAccessTokens()
    expect(await sync.syncNow()).toBe(true)
    expect(http.sync.state(id)).toBeDefined()
    expect(session.needsReauth).toBe(false)
    expect((await db.getMeta('session'))!.refreshToken).not.toBe(before.refreshToken)
  })

  it('a refused refresh asks for the password and keeps every queued change; relogin pushes them', async () => {
    const { session, sync, records } = await start()
    const deviceId = session.deviceId
    const ids = [
      await records.create('household', household()),
      await records.create('household', household({ headName: '李梅' })),
    ]
    http.expireAccessTokens()
    http.revokeSessions()

    expect(await sync.syncNow()).toBe(false)
    expect(session.needsReauth).toBe(true)
    expect(session.isLoggedIn).toBe(true)
    expect(session.user).toEqual(WORKER)
    expect(await db.outbox.count()).toBe(2)
    expect(await db.records.count()).toBe(2)
    expect(ids.every((id) => http.sync.state(id) === undefined)).toBe(true)

    await expect(session.relogin('wrong')).rejects.toMatchObject({ code: 'invalid_credentials' })
    expect(session.needsReauth).toBe(true)
    await session.relogin('secret')
    expect(session.needsReauth).toBe(false)
    const logins = http.requests.filter((r) => r.path === '/api/auth/login')
    expect(logins).toHaveLength(3)
    expect(http.sessions.at(-1)!.deviceId).toBe(deviceId) // the same device
    expect(await sync.syncNow()).toBe(true)
    expect(await db.outbox.count()).toBe(0)
    for (const id of ids) expect(http.sync.state(id)).toBeDefined()
  })

  it('a refresh brings the user as the server now sees them (e.g. new areas)', async () => {
    const { session, sync } = await start()
    http.addUser({ ...WORKER, areaIds: [GRID, '330523101001002'] }, 'secret')
    http.expireAccessTokens()
    await sync.syncNow()
    await vi.waitFor(() => expect(session.user?.areaIds).toEqual([GRID, '330523101001002']))
  })

  it('an admin wipe: queued changes are pushed, then all local data and the session go; a new device id', async () => {
    const { session, sync, records } = await start()
    const oldDevice = session.deviceId
    const id = await records.create('household', household())
    await db.areas.put({ id: GRID, level: 'grid', name: '第一网格', parentId: null, geometry: null })
    http.sync.wipe = true

    expect(await sync.syncNow()).toBe(true)
    expect(http.sync.state(id)).toBeDefined()
    const paths = http.requests.map((r) => r.path)
    expect(paths.indexOf('/api/devices/wiped')).toBeGreaterThan(paths.lastIndexOf('/api/sync/push'))
    expect(sync.wiped).toBe(true)
    expect(session.isLoggedIn).toBe(false)
    expect(session.user).toBeNull()
    for (const table of [db.records, db.outbox, db.refused, db.areas]) expect(await table.count()).toBe(0)
    for (const key of ['session', 'pullCursor', 'scopeKey', 'clock', 'lastOpSeq', 'lastSyncAt'] as const)
      expect(await db.getMeta(key)).toBeUndefined()
    expect(session.deviceId).not.toBe(oldDevice)
    expect(await db.getMeta('deviceId')).toBe(session.deviceId)
    expect(http.sessions[0]!.revoked).toBe(true)

    await session.login('worker1', 'secret') // the phone comes back as a new device
    expect(sync.wiped).toBe(false)
    expect(http.sessions.at(-1)!.deviceId).toBe(session.deviceId)
  })

  it('logout tells the server when online, and refuses while changes are unsynced unless forced', async () => {
    const { session, records } = await start()
    useSyncStore().stop()
    await records.create('household', household())
    expect(await session.logout()).toEqual({ ok: false, reason: 'unsynced', unsynced: 1 })
    expect(http.requests.some((r) => r.path === '/api/auth/logout')).toBe(false)
    expect(await db.outbox.count()).toBe(1)
    expect(await session.logout({ force: true })).toEqual({ ok: true })
    expect(http.requests.some((r) => r.path === '/api/auth/logout')).toBe(true)
    expect(http.sessions[0]!.revoked).toBe(true)
    expect(session.isLoggedIn).toBe(false)
  })

  it('logout offline does not try the server and still clears the session', async () => {
    const { session } = await start()
    online = false
    expect(await session.logout()).toEqual({ ok: true })
    expect(http.requests.some((r) => r.path === '/api/auth/logout')).toBe(false)
    expect(await db.getMeta('session')).toBeUndefined()
  })
})

describe('unmasking a sensitive field', () => {
  async function withHousehold(username: string) {
    const worker = await start()
    const id = await worker.records.create('household', household({ headPhone: '13812345678' }))
    await worker.sync.syncNow()
    if (username === 'worker1') return { id, ...worker }
    await worker.session.logout()
    return { id, ...(await start(username)) }
  }

  it('online: the server gives the clear value and records who asked for what', async () => {
    const { id, records, session } = await withHousehold('leader1')
    expect(await records.unmask('household', id, 'headPhone')).toBe('13812345678')
    expect(http.unmasks).toEqual([
      { userId: 'u2', deviceId: session.deviceId, kind: 'household', recordId: id, field: 'headPhone' },
    ])
  })

  it('offline: a clear Chinese error and no request', async () => {
    const { id, records } = await withHousehold('worker1')
    online = false
    const before = http.requests.length
    await expect(records.unmask('household', id, 'headPhone')).rejects.toMatchObject({
      name: 'UnmaskError',
      code: 'offline',
      message: '查看完整信息需要联网，请联网后再试',
    })
    expect(http.requests.length).toBe(before)
    expect(http.unmasks).toEqual([])
  })

  it('refused: a role that may not unmask, a field that is not sensitive, a record out of reach', async () => {
    const { id, records } = await withHousehold('handler1')
    await expect(records.unmask('household', id, 'headPhone')).rejects.toMatchObject({
      code: 'forbidden',
      message: '您的角色无权查看完整信息',
    })
    await useSessionStore().logout()
    await start('leader1')
    await expect(records.unmask('household', id, 'address')).rejects.toMatchObject({ code: 'not_sensitive' })
    await expect(records.unmask('household', v7(), 'headPhone')).rejects.toMatchObject({
      code: 'not_found',
    })
    expect(http.unmasks).toEqual([])
  })
})
