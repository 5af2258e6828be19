import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import request from 'supertest'
import { conflictQueueSchema, resolveConflictResponseSchema } from '#shared/schemas/conflictQueue.ts'
import type { ConflictQueue, ResolveConflictRequest } from '#shared/schemas/conflictQueue.ts'
import { pushResponseSchema } from '#shared/sync/protocol.ts'
import type { Op } from '#shared/sync/protocol.ts'
import {
  GRID_A,
  VILLAGE,
  VILLAGE_2,
  addUser,
  bearer,
  createOp,
  editOp,
  householdFields,
  login,
  push,
  snapshot,
  stamp,
  startTestServer,
} from '../fixtures/serverHarness.ts'
import type { TestServer } from '../fixtures/serverHarness.ts'

const A = 'device-a-0001'
const B = 'device-b-0002'
const L = 'device-leader-01'
const R1 = '01900000-0000-7000-8000-000000000001'
const R2 = '01900000-0000-7000-8000-000000000002'

let server: TestServer
const tokens: Record<string, string> = {}

beforeEach(async () => {
  server = await startTestServer()
  await addUser(server, 'alice', 'worker', [GRID_A])
  await addUser(server, 'bob', 'worker', [GRID_A])
  await addUser(server, 'lily', 'leader', [VILLAGE])
  await addUser(server, 'otto', 'leader', [VILLAGE_2])
  await addUser(server, 'hank', 'handler', [VILLAGE])
  await addUser(server, 'ada', 'admin', [VILLAGE])
  tokens.alice = await login(server, 'alice', A)
  tokens.bob = await login(server, 'bob', B)
  tokens.lily = await login(server, 'lily', L)
  tokens.otto = await login(server, 'otto', 'device-otto-01')
  tokens.hank = await login(server, 'hank', 'device-hank-01')
  tokens.ada = await login(server, 'ada', 'device-ada-001')
})
afterEach(() => server.close())

async function pushOk(who: string, device: string, ops: Op[]): Promise<void> {
  const res = await push(server, tokens[who]!, device, ops)
  expect(res.status).toBe(200)
  const results = pushResponseSchema.parse(res.body).results
  expect(results.map((r) => r.status)).toEqual(ops.map(() => 'applied'))
}

async function queue(who: string, query: Record<string, string | number> = {}): Promise<ConflictQueue> {
  const res = await request(server.app).get('/api/conflicts/queue').query(query).set(bearer(tokens[who]!))
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return conflictQueueSchema.parse(res.body)
}

const resolve = (who: string, body: ResolveConflictRequest) =>
  request(server.app).post('/api/conflicts/resolve').set(bearer(tokens[who]!)).send(body)

const created = stamp(1_000, 'deva')

/** Alice creates R1; then alice (device A) and bob (device B) both edit headName and headPhone from that base. */
async function twoDeviceConflict(): Promise<void> {
  await pushOk('alice', A, [createOp(1, R1, created)])
  const base = { headName: created, headPhone: created }
  await pushOk('alice', A, [
    editOp(2, R1, stamp(2_000, 'deva'), { headName: '潘建民', headPhone: '13900002222' }, base),
  ])
  await pushOk('bob', B, [
    editOp(1, R1, stamp(3_000, 'devb'), { headName: '潘建华', headPhone: '13700003333' }, base),
  ])
}

describe('GET /api/conflicts/queue', () => {
  it("a conflict two devices made is in the leader's queue: record, field, both values, who, when, device", async () => {
    await twoDeviceConflict()
    const { conflicts, total, next } = await queue('lily')
    expect(total).toBe(2)
    expect(next).toBeNull()
    const name = conflicts.find((c) => c.field === 'headName')
    expect(name).toMatchObject({
      recordId: R1,
      kind: 'household',
      label: `${householdFields().address} ${householdFields().houseNumber}`,
      deleted: false,
      type: 'edit',
      kept: { value: '潘建华', userName: '测试 bob', deviceId: B, stamp: stamp(3_000, 'devb') },
      lost: { value: '潘建民', userName: '测试 alice', deviceId: A, stamp: stamp(2_000, 'deva') },
    })
    expect(name!.kept.at).toBeGreaterThan(name!.lost.at)
    // Newest first: the rows were made by the same op, in field order; the later row comes first.
    expect(conflicts[0]!.id).toBeGreaterThan(conflicts[1]!.id)
  })

  it('masks sensitive values for the role, both the kept and the lost one', async () => {
    await twoDeviceConflict()
    const phone = (await queue('lily')).conflicts.find((c) => c.field === 'headPhone')!
    expect(phone.kept.value).toBe('137****3333')
    expect(phone.lost.value).toBe('139****2222')
    expect(JSON.stringify(await queue('ada'))).not.toContain('13900002222')
  })

  it('lists only the caller’s scope, and only to leaders and admins', async () => {
    await twoDeviceConflict()
    await pushOk('alice', A, [createOp(3, R2, stamp(4_000, 'deva'), householdFields({ gridId: GRID_A }))])
    expect((await queue('otto')).conflicts).toEqual([])
    expect((await queue('otto')).total).toBe(0)
    expect((await queue('ada')).total).toBe(2)
    for (const who of ['alice', 'hank']) {
      const res = await request(server.app).get('/api/conflicts/queue').set(bearer(tokens[who]!))
      expect(res.status).toBe(403)
    }
    expect((await request(server.app).get('/api/conflicts/queue')).status).toBe(401)
  })

  it('pages newest first with `next`', async () => {
    await twoDeviceConflict()
    const first = await queue('lily', { limit: 1 })
    expect(first.conflicts).toHaveLength(1)
    expect(first.next).toBe(first.conflicts[0]!.id)
    const second = await queue('lily', { limit: 1, before: first.next! })
    expect(second.conflicts).toHaveLength(1)
    expect(second.conflicts[0]!.id).toBeLessThan(first.conflicts[0]!.id)
    expect(second.next).toBeNull()
    const bad = await request(server.app)
      .get('/api/conflicts/queue')
      .query({ limit: 0 })
      .set(bearer(tokens.lily!))
    expect(bad.status).toBe(400)
  })
})

describe('POST /api/conflicts/resolve', () => {
  it('keep: the conflict leaves the queue for good, records who and when; a NEW losing write comes back', async () => {
    await twoDeviceConflict()
    server.clock.now += 60_000
    const res = await resolve('lily', {
      recordId: R1,
      field: 'headName',
      loserStamp: stamp(2_000, 'deva'),
      decision: 'keep',
    })
    expect(res.status).toBe(200)
    const { resolution } = resolveConflictResponseSchema.parse(res.body)
    expect(resolution).toMatchObject({
      decision: 'keep',
      resolvedAt: server.clock.now,
      resolvedByName: '测试 lily',
    })
    expect((await queue('lily')).conflicts.map((c) => c.field)).toEqual(['headPhone'])

    // Another op recomputes R1's conflicts: the decided one does not come back.
    await pushOk('alice', A, [
      editOp(3, R1, stamp(5_000, 'deva'), { memberCount: 4 }, { memberCount: created }),
    ])
    expect((await queue('lily')).conflicts.map((c) => c.field)).toEqual(['headPhone'])

    // A new concurrent edit that loses (older stamp, stale base) is a new conflict.
    await pushOk('alice', A, [
      editOp(4, R1, stamp(2_500, 'deva'), { headName: '潘三' }, { headName: stamp(2_000, 'deva') }),
    ])
    const again = (await queue('lily')).conflicts.filter((c) => c.field === 'headName')
    expect(again.map((c) => c.lost.value)).toEqual(['潘三'])
  })

  it('is idempotent: a second call answers the first decision and changes nothing', async () => {
    await twoDeviceConflict()
    const body: ResolveConflictRequest = {
      recordId: R1,
      field: 'headName',
      loserStamp: stamp(2_000, 'deva'),
      decision: 'keep',
    }
    const first = await resolve('lily', body)
    expect(first.status).toBe(200)
    const before = await snapshot(server)
    const resolutions = await server.store.kysely.selectFrom('conflict_resolutions').selectAll().execute()
    server.clock.now += 5_000
    const second = await resolve('ada', { ...body, decision: 'restored' })
    expect(second.status).toBe(200)
    expect(second.body).toEqual(first.body)
    expect(await snapshot(server)).toEqual(before)
    expect(await server.store.kysely.selectFrom('conflict_resolutions').selectAll().execute()).toEqual(
      resolutions,
    )
  })

  it('restored: the restoring edit synced first settles the row; the decision is still kept', async () => {
    await twoDeviceConflict()
    const winner = stamp(3_000, 'devb')
    // The leader's device restores the lost value as an ordinary edit from the winner it saw.
    await pushOk('lily', L, [
      editOp(1, R1, stamp(6_000, 'devl'), { headName: '潘建民' }, { headName: winner }),
    ])
    expect((await queue('lily')).conflicts.map((c) => c.field)).toEqual(['headPhone'])
    const res = await resolve('lily', {
      recordId: R1,
      field: 'headName',
      loserStamp: stamp(2_000, 'deva'),
      decision: 'restored',
    })
    expect(res.status).toBe(200)
    expect(res.body.resolution.decision).toBe('restored')
    // A later edit from the restored value makes the old loser a losing leaf again: it stays decided.
    await pushOk('bob', B, [
      editOp(2, R1, stamp(7_000, 'devb'), { headName: '潘建国' }, { headName: stamp(6_000, 'devl') }),
    ])
    expect((await queue('lily')).conflicts.map((c) => c.field)).toEqual(['headPhone'])
  })

  it('refuses workers and handlers, out-of-scope records, unknown conflicts and bad bodies', async () => {
    await twoDeviceConflict()
    const body: ResolveConflictRequest = {
      recordId: R1,
      field: 'headName',
      loserStamp: stamp(2_000, 'deva'),
      decision: 'keep',
    }
    expect((await resolve('alice', body)).status).toBe(403)
    expect((await resolve('hank', body)).status).toBe(403)
    expect((await resolve('otto', body)).status).toBe(404)
    // The winner is no loser; a keep of a write that never lost is no conflict either.
    expect((await resolve('lily', { ...body, loserStamp: stamp(3_000, 'devb') })).status).toBe(404)
    expect((await resolve('lily', { ...body, field: 'memberCount', loserStamp: created })).status).toBe(404)
    const bad = await resolve('lily', { ...body, decision: 'maybe' as 'keep' })
    expect(bad.status).toBe(400)
    expect(bad.body.error.field).toBe('decision')
    expect((await queue('lily')).total).toBe(2)
  })
})
