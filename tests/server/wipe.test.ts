import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import request from 'supertest'
import { adminDeviceResponseSchema, auditPageSchema } from '#shared/schemas/admin.ts'
import { pullResponseSchema, pushResponseSchema } from '#shared/sync/protocol.ts'
import {
  COUNTY,
  GRID_A,
  GRID_D,
  addUser,
  bearer,
  createOp,
  householdFields,
  login,
  pull,
  push,
  stamp,
  startTestServer,
} from '../fixtures/serverHarness.ts'
import type { TestServer } from '../fixtures/serverHarness.ts'

const PHONE = 'device-lost-phone'
const OTHER = 'device-other-01'
const R1 = '01900000-0000-7000-8000-000000000001'
const R2 = '01900000-0000-7000-8000-000000000002'

let server: TestServer
let adminToken: string
let phoneToken: string

beforeEach(async () => {
  server = await startTestServer()
  await addUser(server, 'root', 'admin', [COUNTY])
  await addUser(server, 'worker', 'worker', [GRID_A])
  adminToken = await login(server, 'root', 'device-admin-01')
  phoneToken = await login(server, 'worker', PHONE)
})
afterEach(() => server.close())

const requestWipe = (deviceId: string) =>
  request(server.app).post(`/api/admin/devices/${deviceId}/wipe`).set(bearer(adminToken))

describe('remote wipe', () => {
  it('request → the next push applies what it may and answers wipe:true → /api/devices/wiped → the token is refused', async () => {
    server.clock.now += 1000
    const requested = await requestWipe(PHONE)
    expect(requested.status).toBe(200)
    expect(adminDeviceResponseSchema.parse(requested.body).device).toMatchObject({
      id: PHONE,
      username: 'worker',
      wipeRequestedAt: server.clock.now,
      wipedAt: null,
    })

    const pushed = await push(server, phoneToken, PHONE, [
      createOp(1, R1, stamp(-1000, PHONE), householdFields({ gridId: GRID_A })),
      createOp(2, R2, stamp(-900, PHONE), householdFields({ gridId: GRID_D })),
    ])
    expect(pushed.status).toBe(200)
    const answer = pushResponseSchema.parse(pushed.body)
    expect(answer.wipe).toBe(true)
    expect(answer.results.map((r) => r.status)).toEqual(['applied', 'refused'])
    expect(await server.store.getRecord(R1)).not.toBeNull()
    const pulled = pullResponseSchema.parse((await pull(server, phoneToken, PHONE)).body)
    expect(pulled.wipe).toBe(true)

    server.clock.now += 1000
    const wiped = await request(server.app).post('/api/devices/wiped').set(bearer(phoneToken))
    expect(wiped.status).toBe(200)
    expect(wiped.body).toEqual({ ok: true })
    const refused = await pull(server, phoneToken, PHONE)
    expect(refused.status).toBe(401)
    expect(refused.body.error.code).toBe('unauthorized')

    const devices = await request(server.app).get('/api/admin/devices').set(bearer(adminToken))
    expect(devices.body.devices.find((d: { id: string }) => d.id === PHONE)).toMatchObject({
      wipedAt: server.clock.now,
    })
    const audit = auditPageSchema.parse(
      (await request(server.app).get('/api/admin/audit').set(bearer(adminToken))).body,
    )
    expect(audit.entries.map((e) => [e.action, e.recordId, e.username])).toEqual([
      ['device_wiped', PHONE, 'worker'],
      ['device_wipe_requested', PHONE, 'root'],
    ])
  })

  it('tells only the device concerned, and a refresh keeps the flag until the device confirms', async () => {
    await addUser(server, 'other', 'worker', [GRID_A])
    const otherToken = await login(server, 'other', OTHER)
    expect((await requestWipe(PHONE)).status).toBe(200)
    expect(pullResponseSchema.parse((await pull(server, otherToken, OTHER)).body).wipe).toBeUndefined()
    const noOps = pushResponseSchema.parse(
      (await push(server, otherToken, OTHER, [createOp(1, R1, stamp(-100, OTHER))])).body,
    )
    expect(noOps.wipe).toBeUndefined()
    expect((await requestWipe('device-never-seen')).status).toBe(404)
  })

  it('confirming without a pending wipe only ends the session (no audit row)', async () => {
    const res = await request(server.app).post('/api/devices/wiped').set(bearer(phoneToken))
    expect(res.status).toBe(200)
    expect((await pull(server, phoneToken, PHONE)).status).toBe(401)
    const rows = await server.store.kysely.selectFrom('audit_log').select('action').execute()
    expect(rows).toEqual([])
  })
})
