import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import request from 'supertest'
import { parseStamp } from '#shared/sync/hlc.ts'
import { pullResponseSchema, pushResponseSchema } from '#shared/sync/protocol.ts'
import type { PullResponse, PushResponse, ServerRecord } from '#shared/sync/protocol.ts'
import { pino } from 'pino'
import { createApp } from '../../server/app.ts'
import type { ConflictRow, StoreOps, SyncStore } from '../../server/store/SyncStore.ts'
import {
  GRID_B,
  T0,
  createOp,
  deleteOp,
  editOp,
  householdFields,
  login,
  addUser,
  pull,
  push,
  snapshot,
  stamp,
  startTestServer,
} from '../fixtures/serverHarness.ts'
import type { TestServer } from '../fixtures/serverHarness.ts'

const A = 'device-a-0001'
const B = 'device-b-0002'
const R1 = '01900000-0000-7000-8000-000000000001'
const R2 = '01900000-0000-7000-8000-000000000002'
const R3 = '01900000-0000-7000-8000-000000000003'

let server: TestServer
let tokenA: string
let tokenB: string

beforeEach(async () => {
  server = await startTestServer()
  await addUser(server, 'alice')
  await addUser(server, 'bob')
  tokenA = await login(server, 'alice', A)
  tokenB = await login(server, 'bob', B)
})
afterEach(() => server.close())

const baseOf = (fields: object, s: string) => Object.fromEntries(Object.keys(fields).map((k) => [k, s]))

async function getRecord(id: string, token = tokenA): Promise<ServerRecord> {
  const res = await request(server.app)
    .get(`/api/records/household/${id}`)
    .set('Authorization', `Bearer ${token}`)
  expect(res.status).toBe(200)
  return res.body as ServerRecord
}

async function conflicts(id: string): Promise<ConflictRow[]> {
  const res = await request(server.app)
    .get('/api/conflicts')
    .query({ recordId: id })
    .set('Authorization', `Bearer ${tokenA}`)
  expect(res.status).toBe(200)
  return (res.body as { conflicts: ConflictRow[] }).conflicts
}

async function pushOk(token: string, device: string, ops: Parameters<typeof push>[3]): Promise<PushResponse> {
  const res = await push(server, token, device, ops)
  expect(res.status).toBe(200)
  return pushResponseSchema.parse(res.body)
}

async function pullAll(token: string, device: string): Promise<PullResponse> {
  const res = await pull(server, token, device)
  expect(res.status).toBe(200)
  return pullResponseSchema.parse(res.body)
}

describe('push', () => {
  it('applies a create and answers per op with the server clock', async () => {
    const s1 = stamp(-1000, A)
    const res = await pushOk(tokenA, A, [createOp(1, R1, s1)])
    expect(res.results).toEqual([{ seq: 1, status: 'applied' }])
    expect(res.clock >= s1).toBe(true)
    expect(parseStamp(res.clock).node).toBe('server')
    const record = await getRecord(R1)
    expect(record).toMatchObject({ kind: 'household', id: R1, seq: 1, fields: householdFields() })
    expect(record.scope).toEqual({
      gridId: '330523102001001',
      villageId: '330523102001',
      townId: '330523102',
      countyId: '330523',
    })
    expect(Object.values(record.stamps).every((s) => s === s1)).toBe(true)
  })

  it('answers a retried batch exactly as the first time and changes nothing', async () => {
    const s1 = stamp(-5000, A)
    await pushOk(tokenA, A, [createOp(1, R1, s1)])
    await pushOk(tokenA, A, [editOp(2, R1, stamp(-3000, A), { headName: '潘国强' }, { headName: s1 })])
    // B's batch: a concurrent edit of the same field (a conflict), a new record and an edit of it.
    const batch = [
      editOp(1, R1, stamp(-2000, B), { headName: '潘建华' }, { headName: s1 }),
      createOp(2, R2, stamp(-1900, B), householdFields({ gridId: GRID_B })),
      editOp(3, R2, stamp(-1800, B), { memberCount: 5 }, { memberCount: stamp(-1900, B) }),
    ]
    const first = await push(server, tokenB, B, batch)
    expect(first.status).toBe(200)
    const before = await snapshot(server)
    expect(before.conflicts).toBe(1)

    const second = await push(server, tokenB, B, batch)
    expect(second.status).toBe(200)
    expect(second.body).toEqual(first.body)
    expect(await snapshot(server)).toEqual(before)

    // Later, with the clock moved on, a retry still gets the same results; a new op in the batch is applied.
    server.clock.now += 60_000
    const third = await pushOk(tokenB, B, [
      ...batch,
      editOp(4, R2, stamp(-100, B), { notes: '新增' }, { notes: stamp(-1900, B) }),
    ])
    expect(third.results).toEqual([...(first.body as PushResponse).results, { seq: 4, status: 'applied' }])
    const after = await snapshot(server)
    expect(after.opWrites).toBe(before.opWrites + 1)
    expect(after.conflicts).toBe(before.conflicts)
  })

  it('keeps both edits when two devices change different fields of one record', async () => {
    const s1 = stamp(-10_000, A)
    await pushOk(tokenA, A, [createOp(1, R1, s1)])
    await pushOk(tokenA, A, [editOp(2, R1, stamp(-5000, A), { headPhone: '13900002222' }, { headPhone: s1 })])
    await pushOk(tokenB, B, [editOp(1, R1, stamp(-6000, B), { memberCount: 6 }, { memberCount: s1 })])

    const record = await getRecord(R1)
    expect(record.fields).toMatchObject({ headPhone: '13900002222', memberCount: 6 })
    for (const device of [A, B]) {
      const page = await pullAll(device === A ? tokenA : tokenB, device)
      expect(page.records).toHaveLength(1)
      expect(page.records[0]!.fields).toMatchObject({ headPhone: '13900002222', memberCount: 6 })
    }
    expect(await conflicts(R1)).toEqual([])
  })

  it.each([
    ['the winner arrives first', true],
    ['the loser arrives first', false],
  ])(
    'lets the higher stamp win a same-field edit (%s) and keeps the loser as one conflict row',
    async (_, winnerFirst) => {
      const s1 = stamp(-10_000, A)
      await pushOk(tokenA, A, [createOp(1, R1, s1)])
      const loser = editOp(2, R1, stamp(-5000, A), { headName: '潘甲' }, { headName: s1 })
      const winner = editOp(1, R1, stamp(-4000, B), { headName: '潘乙' }, { headName: s1 })
      if (winnerFirst) {
        await pushOk(tokenB, B, [winner])
        await pushOk(tokenA, A, [loser])
      } else {
        await pushOk(tokenA, A, [loser])
        await pushOk(tokenB, B, [winner])
      }
      expect((await getRecord(R1)).fields.headName).toBe('潘乙')
      expect((await getRecord(R1)).stamps.headName).toBe(winner.stamp)
      for (const [token, device] of [
        [tokenA, A],
        [tokenB, B],
      ] as const) {
        expect((await pullAll(token, device)).records[0]!.fields.headName).toBe('潘乙')
      }
      // A later unrelated edit does not bring the loser back or duplicate the conflict.
      await pushOk(tokenA, A, [editOp(3, R1, stamp(-1000, A), { notes: '已核实' }, { notes: s1 })])
      expect((await pullAll(tokenA, A)).records[0]!.fields.headName).toBe('潘乙')

      const rows = await conflicts(R1)
      expect(rows).toHaveLength(1)
      expect(rows[0]).toMatchObject({
        type: 'edit',
        field: 'headName',
        winnerStamp: winner.stamp,
        winnerValue: '潘乙',
        loserStamp: loser.stamp,
        loserValue: '潘甲',
        loserDeviceId: A,
        resolvedAt: null,
      })
    },
  )

  it('turns a delete racing an unseen edit into a tombstone and a delete conflict naming the edit', async () => {
    const fields = householdFields()
    const s1 = stamp(-10_000, A)
    await pushOk(tokenA, A, [createOp(1, R1, s1, fields)])
    const edit = editOp(2, R1, stamp(-5000, A), { headName: '潘新' }, { headName: s1 })
    await pushOk(tokenA, A, [edit])
    // B deletes the record as it saw it: every field at s1, not knowing the edit.
    const del = deleteOp(1, R1, stamp(-4000, B), { ...baseOf(fields, s1), _deleted: null })
    const res = await pushOk(tokenB, B, [del])
    expect(res.results).toEqual([{ seq: 1, status: 'applied' }])

    const record = await getRecord(R1)
    expect(record.fields._deleted).toBe(true)
    expect(record.stamps._deleted).toBe(del.stamp)
    const pulled = (await pullAll(tokenA, A)).records.find((r) => r.id === R1)
    expect(pulled?.fields._deleted).toBe(true)
    const rows = await conflicts(R1)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({
      type: 'delete',
      field: 'headName',
      winnerStamp: del.stamp,
      winnerValue: true,
      loserStamp: edit.stamp,
      loserValue: '潘新',
      loserDeviceId: A,
    })
    expect(
      (await server.store.kysely.selectFrom('records').select('deleted').executeTakeFirstOrThrow()).deleted,
    ).toBe(1)
  })

  it('does not count a delete that had seen the edit as a conflict', async () => {
    const fields = householdFields()
    const s1 = stamp(-10_000, A)
    await pushOk(tokenA, A, [createOp(1, R1, s1, fields)])
    const edit = editOp(2, R1, stamp(-5000, A), { headName: '潘新' }, { headName: s1 })
    await pushOk(tokenA, A, [edit])
    await pushOk(tokenB, B, [
      deleteOp(1, R1, stamp(-4000, B), { ...baseOf(fields, s1), headName: edit.stamp, _deleted: null }),
    ])
    expect((await getRecord(R1)).fields._deleted).toBe(true)
    expect(await conflicts(R1)).toEqual([])
  })

  it('refuses a stamp too far in the future with clock_skew and a reason, stores nothing of it', async () => {
    const ahead = 12 * 60_000 + 30_000
    const before = await snapshot(server)
    const res = await pushOk(tokenA, A, [createOp(1, R1, stamp(ahead, A)), createOp(2, R2, stamp(-1000, A))])
    expect(res.results[0]).toMatchObject({ seq: 1, status: 'refused', code: 'clock_skew' })
    const reason = (res.results[0] as { reason: string }).reason
    expect(reason).toContain('12 分 30 秒')
    expect(reason).toContain('快')
    expect(res.results[1]).toEqual({ seq: 2, status: 'applied' })
    // The skewed stamp did not drag the server clock forward.
    expect(parseStamp(res.clock).ms).toBeLessThan(T0 + ahead)
    const res404 = await request(server.app)
      .get(`/api/records/household/${R1}`)
      .set('Authorization', `Bearer ${tokenA}`)
    expect(res404.status).toBe(404)
    const after = await snapshot(server)
    expect(after.records).toBe(before.records + 1)
    expect(after.appliedOps).toBe(before.appliedOps + 1)
    expect(after.recordRows.map((r) => r.id)).toEqual([R2])

    // Just inside the limit is fine; a refused op is judged again when retried.
    server.clock.now += ahead
    const retry = await pushOk(tokenA, A, [createOp(1, R1, stamp(ahead, A))])
    expect(retry.results).toEqual([{ seq: 1, status: 'applied' }])
  })

  it('refuses invalid ops one by one with a code, a reason and the field, and goes on with the batch', async () => {
    const s1 = stamp(-10_000, A)
    await pushOk(tokenA, A, [createOp(1, R1, s1)])
    const before = await snapshot(server)
    const res = await pushOk(tokenA, A, [
      editOp(2, R1, stamp(-9000, A), { color: 'red' }, { color: null }),
      editOp(3, R1, stamp(-8000, A), { headPhone: '12345' }, { headPhone: s1 }),
      editOp(4, R1, stamp(-7000, A), { _deleted: true }, { _deleted: null }),
      editOp(5, R2, stamp(-6000, A), { headName: '无名' }, { headName: null }),
      deleteOp(6, R3, stamp(-5000, A), {}),
      editOp(7, R1, stamp(-4000, A), { description: '错' }, { description: null }, 'incident'),
      editOp(8, R1, stamp(-3000, A), { gridId: '330523102001999' }, { gridId: s1 }),
      createOp(9, R2, stamp(-2000, A), { ...householdFields(), headName: '' }),
      createOp(10, R3, stamp(-1000, A)),
    ])
    const refused = res.results.map((r) => (r.status === 'refused' ? [r.code, r.field] : r.status))
    expect(refused).toEqual([
      ['invalid_field', 'color'],
      ['invalid_field', 'headPhone'],
      ['invalid_field', '_deleted'],
      ['unknown_record', undefined],
      ['unknown_record', undefined],
      ['kind_mismatch', undefined],
      ['invalid_field', 'gridId'],
      ['invalid_field', 'headName'],
      'applied',
    ])
    for (const r of res.results) if (r.status === 'refused') expect(r.reason.length).toBeGreaterThan(3)
    const after = await snapshot(server)
    expect(after.records).toBe(before.records + 1)
    expect(after.recordRows.find((r) => r.id === R1)).toEqual(before.recordRows.find((r) => r.id === R1))
  })

  it('moves a record to its new grid and scope when gridId changes', async () => {
    const s1 = stamp(-10_000, A)
    await pushOk(tokenA, A, [createOp(1, R1, s1)])
    await pushOk(tokenA, A, [editOp(2, R1, stamp(-5000, A), { gridId: GRID_B }, { gridId: s1 })])
    const record = await getRecord(R1)
    expect(record.scope.gridId).toBe(GRID_B)
    expect(record.seq).toBe(2)
    const row = await server.store.kysely.selectFrom('records').select('grid_id').executeTakeFirstOrThrow()
    expect(row.grid_id).toBe(GRID_B)
  })

  it('records who wrote each field from which device (全流程留痕) and when the device was last seen', async () => {
    const s1 = stamp(-10_000, A)
    await pushOk(tokenA, A, [createOp(1, R1, s1)])
    server.clock.now += 1000
    await pushOk(tokenB, B, [editOp(1, R1, stamp(-100, B), { notes: '走访' }, { notes: s1 })])
    const writes = await server.store.listWrites(R1)
    expect(writes.filter((w) => w.deviceId === A)).toHaveLength(Object.keys(householdFields()).length)
    expect(writes.find((w) => w.field === 'notes' && w.deviceId === B)).toMatchObject({
      value: '走访',
      base: s1,
      receivedAt: T0 + 1000,
      serverSeq: 2,
    })
    const devices = await server.store.kysely.selectFrom('devices').selectAll().orderBy('id').execute()
    expect(devices.map((d) => [d.id, d.last_seen_at])).toEqual([
      [A, T0],
      [B, T0 + 1000],
    ])
  })

  it('stores nothing of a batch that fails half-way (one transaction per batch)', async () => {
    const store = server.store
    const failing = Object.create(store) as SyncStore
    failing.transaction = (fn) =>
      store.transaction((tx) => {
        // The batch's records are written, then its history rows fail.
        const wrapped = Object.create(tx) as StoreOps
        wrapped.insertOpRows = () => Promise.reject(new Error('disk full'))
        return fn(wrapped)
      })
    const app = createApp({
      store: failing,
      config: server.config,
      now: () => T0,
      logger: pino({ level: 'silent' }),
    })
    const batch = [
      createOp(1, R1, stamp(-3000, A)),
      createOp(2, R2, stamp(-2000, A)),
      createOp(3, R3, stamp(-1000, A)),
    ]
    const before = await snapshot(server)
    const res = await request(app).post('/api/sync/push').set('Authorization', `Bearer ${tokenA}`).send({
      protocol: 1,
      deviceId: A,
      ops: batch,
    })
    expect(res.status).toBe(500)
    expect(await snapshot(server)).toEqual(before)
    // Nothing was remembered either: the retry is applied in full.
    const retry = await pushOk(tokenA, A, batch)
    expect(retry.results.map((r) => r.status)).toEqual(['applied', 'applied', 'applied'])
  })

  it('keeps its clock across a restart: answers never go back behind an accepted stamp', async () => {
    const s1 = stamp(4 * 60_000, A) // ahead of the server, within the allowed drift
    const first = await pushOk(tokenA, A, [createOp(1, R1, s1)])
    expect(first.clock > s1).toBe(true)
    const restarted = createApp({
      store: server.store,
      config: server.config,
      now: () => T0 - 60_000,
      logger: pino({ level: 'silent' }),
    })
    const res = await request(restarted)
      .get('/api/sync/pull')
      .query({ deviceId: A, protocol: 1 })
      .set('Authorization', `Bearer ${tokenA}`)
    expect(res.status).toBe(200)
    expect((res.body as PullResponse).clock >= first.clock).toBe(true)
  })
})
