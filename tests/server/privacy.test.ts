import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import request from 'supertest'
import { unmaskResponseSchema } from '#shared/schemas/api.ts'
import { apiErrorSchema } from '#shared/sync/protocol.ts'
import type { ServerRecord } from '#shared/sync/protocol.ts'
import type { ConflictRow } from '../../server/store/SyncStore.ts'
import {
  COUNTY,
  GRID_A,
  GRID_D,
  T0,
  TOWN,
  VILLAGE,
  addUser,
  bearer,
  createOp,
  editOp,
  householdFields,
  login,
  push,
  stamp,
  startTestServer,
} from '../fixtures/serverHarness.ts'
import type { TestServer } from '../fixtures/serverHarness.ts'

const IN = '01900000-0000-7000-8000-000000000001'
const OUT = '01900000-0000-7000-8000-000000000002'
const INCIDENT = '01900000-0000-7000-8000-000000000003'
const ADMIN_DEVICE = 'device-admin-01'
const WORKER_DEVICE = 'device-worker-1'
const LEADER_DEVICE = 'device-leader-1'

let server: TestServer
const tokens: Record<string, string> = {}

beforeEach(async () => {
  server = await startTestServer()
  await addUser(server, 'root', 'admin', [COUNTY])
  await addUser(server, 'worker', 'worker', [GRID_A])
  await addUser(server, 'leader', 'leader', [VILLAGE])
  await addUser(server, 'handler', 'handler', [TOWN])
  tokens.admin = await login(server, 'root', ADMIN_DEVICE)
  tokens.worker = await login(server, 'worker', WORKER_DEVICE)
  tokens.leader = await login(server, 'leader', LEADER_DEVICE)
  tokens.handler = await login(server, 'handler', 'device-handler-1')
  const s1 = stamp(-10_000, ADMIN_DEVICE)
  await push(server, tokens.admin!, ADMIN_DEVICE, [
    createOp(1, IN, s1, householdFields({ gridId: GRID_A, headPhone: '13812345678' })),
    createOp(2, OUT, s1, householdFields({ gridId: GRID_D, headPhone: '13987654321' })),
    createOp(
      3,
      INCIDENT,
      s1,
      {
        gridId: GRID_A,
        category: 'care',
        description: '独居老人需要上门',
        urgency: 'urgent',
        status: 'reported',
        reportedAt: T0 - 1000,
      },
      'incident',
    ),
  ])
  // Two concurrent phone edits: the loser is kept as a conflict row holding a phone number.
  await push(server, tokens.worker!, WORKER_DEVICE, [
    editOp(1, IN, stamp(-5000, WORKER_DEVICE), { headPhone: '13811112222' }, { headPhone: s1 }),
  ])
  await push(server, tokens.leader!, LEADER_DEVICE, [
    editOp(1, IN, stamp(-4000, LEADER_DEVICE), { headPhone: '13833334444' }, { headPhone: s1 }),
  ])
})
afterEach(() => server.close())

const errorOf = (body: unknown) => apiErrorSchema.parse(body).error
const getRecord = (role: string, id = IN, kind = 'household') =>
  request(server.app).get(`/api/records/${kind}/${id}`).set(bearer(tokens[role]!))
const getConflicts = (role: string, id = IN) =>
  request(server.app).get('/api/conflicts').query({ recordId: id }).set(bearer(tokens[role]!))
const unmask = (role: string, field = 'headPhone', id = IN, kind = 'household') =>
  request(server.app).post(`/api/records/${kind}/${id}/unmask`).set(bearer(tokens[role]!)).send({ field })

describe('masking by role', () => {
  it('GET a record: phones in clear for the worker, masked for leader and admin', async () => {
    const phoneFor = async (role: string) => ((await getRecord(role)).body as ServerRecord).fields.headPhone
    expect(await phoneFor('worker')).toBe('13833334444')
    expect(await phoneFor('leader')).toBe('138****4444')
    expect(await phoneFor('admin')).toBe('138****4444')
    expect((await getRecord('handler')).status).toBe(403)
  })

  it('GET conflicts: the winner and loser values are masked the same way', async () => {
    const leader = (await getConflicts('leader')).body.conflicts as ConflictRow[]
    expect(leader).toHaveLength(1)
    expect(leader[0]).toMatchObject({
      field: 'headPhone',
      winnerValue: '138****4444',
      loserValue: '138****2222',
      loserDeviceId: WORKER_DEVICE,
    })
    const worker = (await getConflicts('worker')).body.conflicts as ConflictRow[]
    expect(worker[0]).toMatchObject({ winnerValue: '13833334444', loserValue: '13811112222' })
    expect((await getConflicts('handler')).status).toBe(403)
    expect((await getConflicts('leader', OUT)).status).toBe(404)
  })
})

describe('unmask', () => {
  it('returns the clear value and writes an audit row: who, from which device, which record and field, when', async () => {
    server.clock.now = T0 + 42_000
    const res = await unmask('leader')
    expect(res.status).toBe(200)
    expect(unmaskResponseSchema.parse(res.body)).toEqual({ field: 'headPhone', value: '13833334444' })

    const audit = await request(server.app).get('/api/admin/audit').set(bearer(tokens.admin!))
    expect(audit.status).toBe(200)
    expect(audit.body.entries).toEqual([
      {
        id: expect.any(Number),
        at: T0 + 42_000,
        userId: expect.any(String),
        username: 'leader',
        deviceId: LEADER_DEVICE,
        action: 'unmask',
        recordKind: 'household',
        recordId: IN,
        field: 'headPhone',
        detail: null,
      },
    ])
    // Reading the record again is still masked: unmasking is per request, not a mode.
    expect(((await getRecord('leader')).body as ServerRecord).fields.headPhone).toBe('138****4444')
  })

  it('is refused to a handler (403), out of scope (404), for a field that is not sensitive (400); none is audited', async () => {
    const handler = await unmask('handler')
    expect(handler.status).toBe(403)
    expect(errorOf(handler.body).code).toBe('forbidden')
    const outOfScope = await unmask('leader', 'headPhone', OUT)
    expect(outOfScope.status).toBe(404)
    expect(errorOf(outOfScope.body).code).toBe('not_found')
    const notSensitive = await unmask('leader', 'headName')
    expect(notSensitive.status).toBe(400)
    expect(errorOf(notSensitive.body)).toMatchObject({ code: 'invalid_request', field: 'field' })
    expect((await unmask('leader', 'headPhone', INCIDENT, 'incident')).status).toBe(400)
    expect((await unmask('leader', 'headPhone', INCIDENT)).status).toBe(404)
    const rows = await server.store.kysely.selectFrom('audit_log').select('id').execute()
    expect(rows).toEqual([])
  })
})
