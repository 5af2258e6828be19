/**
 * The real device stack (Dexie on fake-indexeddb, the record repository, the sync engine, the HTTP client with its
 * token refresh) against the real server over HTTP on 127.0.0.1 with a real SQLite file: what scope changes do to a
 * phone's copy, and that no pending edit is lost on the way.
 */
import 'fake-indexeddb/auto'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import request from 'supertest'
import { v7 } from 'uuid'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { GridPatrolDb, deviceIdFrom } from '../../src/db/GridPatrolDb.ts'
import { createDexieLocalStore } from '../../src/db/dexieLocalStore.ts'
import { createRecordRepository } from '../../src/db/recordRepository.ts'
import { createApiClient } from '../../src/sync/apiClient.ts'
import { createHttpTransport } from '../../src/sync/httpTransport.ts'
import { SyncEngine } from '../../src/sync/SyncEngine.ts'
import { sessionTokenStore } from '../../src/stores/services.ts'
import {
  COUNTY,
  GRID_A,
  GRID_B,
  PASSWORD,
  VILLAGE,
  addUser,
  householdFields,
  login,
  startTestServer,
  type TestServer,
} from '../fixtures/serverHarness.ts'

let server: TestServer
let listener: Server
let baseUrl: string
let adminToken: string
let devices = 0

beforeEach(async () => {
  server = await startTestServer()
  // Devices stamp with the real clock, so the server must run on it too (its drift check compares the two).
  Object.defineProperty(server.clock, 'now', { get: () => Date.now() })
  listener = server.app.listen(0, '127.0.0.1')
  await new Promise((resolve) => listener.once('listening', resolve))
  baseUrl = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`
  await addUser(server, 'root', 'admin', [COUNTY])
  adminToken = await login(server, 'root', 'device-admin-01')
})
afterEach(async () => {
  await new Promise((resolve) => listener.close(resolve))
  await server.close()
})

/** A phone: its own IndexedDB, logged in over HTTP as `username`. */
async function phone(username: string) {
  const db = new GridPatrolDb(`integration-${++devices}-${Date.now()}`)
  const now = () => Date.now()
  const transport = createHttpTransport(
    createApiClient({ baseUrl, session: sessionTokenStore(() => db, v7) }),
  )
  const deviceId = await db.ensureDeviceId(deviceIdFrom(v7))
  await db.setMeta('session', await transport.login({ username, password: PASSWORD, deviceId }))
  return {
    db,
    records: createRecordRepository(db, { now, newId: v7 }),
    engine: new SyncEngine({ store: createDexieLocalStore(db, { now, newId: v7 }), transport, now }),
    ids: async () => ((await db.records.toCollection().primaryKeys()) as string[]).sort(),
  }
}

async function reassign(username: string, areaIds: string[]) {
  const users = await request(server.app).get('/api/admin/users').set('Authorization', `Bearer ${adminToken}`)
  const user = (users.body as { users: { id: string; username: string }[] }).users.find(
    (u) => u.username === username,
  )
  const res = await request(server.app)
    .patch(`/api/admin/users/${user!.id}`)
    .set('Authorization', `Bearer ${adminToken}`)
    .send({ areaIds })
  expect(res.status).toBe(200)
}

async function serverFields(id: string) {
  return (await server.store.getRecord(id))?.fields
}

describe('a real phone against the real server', () => {
  it('after a reassignment drops the old grid, pulls the new one, and keeps every pending edit pushed or visibly refused', async () => {
    await addUser(server, 'leader', 'leader', [VILLAGE])
    await addUser(server, 'worker', 'worker', [GRID_A])
    const leader = await phone('leader')
    const inA = await leader.records.create(
      'household',
      householdFields({ gridId: GRID_A, address: '竹海路 1 号' }),
    )
    const alsoInA = await leader.records.create(
      'household',
      householdFields({ gridId: GRID_A, address: '竹海路 2 号' }),
    )
    const inB = await leader.records.create(
      'household',
      householdFields({ gridId: GRID_B, address: '溪口路 9 号' }),
    )
    await leader.engine.sync()

    const worker = await phone('worker')
    await worker.engine.sync()
    expect(await worker.ids()).toEqual([inA, alsoInA].sort())

    // One edit reaches the server before the reassignment, one is still queued when it happens.
    await worker.records.update('household', inA, { notes: '已走访，老人身体好' })
    await worker.engine.sync()
    await worker.records.update('household', alsoInA, { notes: '重新核对门牌' })
    await reassign('worker', [GRID_B])

    const summary = await worker.engine.sync()
    expect(await worker.ids()).toEqual([inB])
    expect(summary.evicted).toBe(2)
    expect((await serverFields(inA))?.notes).toBe('已走访，老人身体好')
    // The late edit was refused by the server (the record left the worker's scope) and is kept with its reason.
    expect(await worker.db.outbox.count()).toBe(0)
    const refused = await worker.db.refused.toArray()
    expect(refused.map((r) => [r.id, r.code])).toEqual([[alsoInA, 'out_of_scope']])
    expect(refused[0]!.reason).toMatch(/\S/)
    expect((await serverFields(alsoInA))?.notes).toBeNull()
  })

  it('drops a record an edit moved to a grid the phone does not cover, and pulls it where it went', async () => {
    await addUser(server, 'leader', 'leader', [VILLAGE])
    await addUser(server, 'workerA', 'worker', [GRID_A])
    await addUser(server, 'workerB', 'worker', [GRID_B])
    const leader = await phone('leader')
    const moving = await leader.records.create('household', householdFields({ gridId: GRID_A }))
    const staying = await leader.records.create(
      'household',
      householdFields({ gridId: GRID_A, address: '竹海路 3 号' }),
    )
    await leader.engine.sync()
    const [a, b] = [await phone('workerA'), await phone('workerB')]
    await a.engine.sync()
    await b.engine.sync()
    expect(await a.ids()).toEqual([moving, staying].sort())
    expect(await b.ids()).toEqual([])

    await leader.records.update('household', moving, { gridId: GRID_B })
    await leader.engine.sync()
    await a.engine.sync()
    await b.engine.sync()
    expect(await a.ids()).toEqual([staying])
    expect(await b.ids()).toEqual([moving])
    expect((await b.db.records.get(moving))?.gridId).toBe(GRID_B)
  })
})
