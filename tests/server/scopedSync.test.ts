import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import request from 'supertest'
import { CompiledQuery } from 'kysely'
import { pullResponseSchema, pushResponseSchema } from '#shared/sync/protocol.ts'
import type { Op, PullResponse, PushResponse } from '#shared/sync/protocol.ts'
import {
  COUNTY,
  GRID_A,
  GRID_B,
  GRID_C,
  GRID_D,
  T0,
  TOWN,
  VILLAGE,
  VILLAGE_2,
  VILLAGE_3,
  addUser,
  bearer,
  createOp,
  deleteOp,
  editOp,
  householdFields,
  login,
  pull,
  push,
  stamp,
  startTestServer,
} from '../fixtures/serverHarness.ts'
import type { TestServer } from '../fixtures/serverHarness.ts'

const id = (n: number) => `01900000-0000-7000-8000-${String(n).padStart(12, '0')}`
const incidentFields = (gridId: string) => ({
  gridId,
  category: 'safety',
  description: '山坡有落石风险',
  urgency: 'normal',
  status: 'reported',
  reportedAt: 1_749_990_000_000,
})
const placeFields = (gridId: string) => ({
  gridId,
  type: 'shop',
  name: '便民超市',
  address: '竹海路 1 号',
  riskLevel: 'low',
  contactPhone: '13700007777',
})

/** What the admin seeds: per grid a household, an incident; a place in A. */
const SEEDED = {
  householdA: id(1),
  householdB: id(2),
  householdC: id(3),
  householdD: id(4),
  incidentA: id(5),
  incidentD: id(6),
  placeA: id(7),
  incidentB: id(8),
}

let server: TestServer
let adminToken: string
const ADMIN_DEVICE = 'device-admin-01'

beforeEach(async () => {
  server = await startTestServer()
  await addUser(server, 'root', 'admin', [COUNTY])
  adminToken = await login(server, 'root', ADMIN_DEVICE)
  const s = stamp(-60_000, ADMIN_DEVICE)
  const res = await push(server, adminToken, ADMIN_DEVICE, [
    createOp(1, SEEDED.householdA, s, householdFields({ gridId: GRID_A })),
    createOp(2, SEEDED.householdB, s, householdFields({ gridId: GRID_B })),
    createOp(3, SEEDED.householdC, s, householdFields({ gridId: GRID_C })),
    createOp(4, SEEDED.householdD, s, householdFields({ gridId: GRID_D })),
    createOp(5, SEEDED.incidentA, s, incidentFields(GRID_A), 'incident'),
    createOp(6, SEEDED.incidentD, s, incidentFields(GRID_D), 'incident'),
    createOp(7, SEEDED.placeA, s, placeFields(GRID_A), 'place'),
    createOp(8, SEEDED.incidentB, s, incidentFields(GRID_B), 'incident'),
  ])
  expect(res.body.results.every((r: { status: string }) => r.status === 'applied')).toBe(true)
})
afterEach(() => server.close())

async function pullAll(token: string, device: string, since = 0): Promise<PullResponse> {
  const res = await pull(server, token, device, since)
  expect(res.status).toBe(200)
  return pullResponseSchema.parse(res.body)
}

async function pushOk(token: string, device: string, ops: Op[]): Promise<PushResponse> {
  const res = await push(server, token, device, ops)
  expect(res.status).toBe(200)
  return pushResponseSchema.parse(res.body)
}

const ids = (page: PullResponse) => page.records.map((r) => r.id).sort()

async function userId(username: string): Promise<string> {
  const row = await server.store.kysely
    .selectFrom('users')
    .select('id')
    .where('username', '=', username)
    .executeTakeFirstOrThrow()
  return row.id
}

const patchUser = async (username: string, body: object) => {
  const res = await request(server.app)
    .patch(`/api/admin/users/${await userId(username)}`)
    .set(bearer(adminToken))
    .send(body)
  expect(res.status).toBe(200)
}

const moveGrid = (gridId: string, parentId: string) =>
  request(server.app).patch(`/api/admin/areas/${gridId}`).set(bearer(adminToken)).send({ parentId })

describe('pull by scope', () => {
  it('brings each user only what their areas cover, of the kinds their role reads', async () => {
    await addUser(server, 'worker', 'worker', [GRID_A])
    await addUser(server, 'leader', 'leader', [VILLAGE])
    await addUser(server, 'handler', 'handler', [TOWN])
    await addUser(server, 'two_grids', 'worker', [GRID_B, GRID_D])
    const seen = async (username: string) =>
      ids(await pullAll(await login(server, username, `device-${username}`), `device-${username}`))

    expect(await seen('worker')).toEqual([SEEDED.householdA, SEEDED.incidentA, SEEDED.placeA].sort())
    expect(await seen('leader')).toEqual(
      [SEEDED.householdA, SEEDED.householdB, SEEDED.incidentA, SEEDED.placeA, SEEDED.incidentB].sort(),
    )
    // 责任单位: incidents only, and only in its town (not D's in 山川乡).
    expect(await seen('handler')).toEqual([SEEDED.incidentA, SEEDED.incidentB].sort())
    expect(await seen('two_grids')).toEqual(
      [SEEDED.householdB, SEEDED.incidentB, SEEDED.householdD, SEEDED.incidentD].sort(),
    )
    expect((await pullAll(adminToken, ADMIN_DEVICE)).records).toHaveLength(8)
  })

  it('pages a scoped pull by server seq without gaps or repeats', async () => {
    await addUser(server, 'leader', 'leader', [VILLAGE])
    const token = await login(server, 'leader', 'dev-leader')
    const all: string[] = []
    let since = 0
    for (let more = true; more;) {
      const res = await pull(server, token, 'dev-leader', since, 2)
      const page = pullResponseSchema.parse(res.body)
      expect(page.records.length).toBeLessThanOrEqual(2)
      all.push(...page.records.map((r) => r.id))
      since = page.cursor
      more = page.more
    }
    expect(all.sort()).toEqual((await pullAll(token, 'dev-leader')).records.map((r) => r.id).sort())
    expect(all).toHaveLength(5)
  })

  it('masks phones for roles that do not see them in clear, leaving stamps alone', async () => {
    await addUser(server, 'worker', 'worker', [GRID_A])
    await addUser(server, 'leader', 'leader', [VILLAGE])
    const byId = async (username: string) => {
      const page = await pullAll(await login(server, username, `device-${username}`), `device-${username}`)
      return new Map(page.records.map((r) => [r.id, r]))
    }
    const worker = await byId('worker')
    const leader = await byId('leader')
    expect(worker.get(SEEDED.householdA)!.fields.headPhone).toBe('13800001111')
    expect(worker.get(SEEDED.placeA)!.fields.contactPhone).toBe('13700007777')
    expect(leader.get(SEEDED.householdA)!.fields.headPhone).toBe('138****1111')
    expect(leader.get(SEEDED.placeA)!.fields.contactPhone).toBe('137****7777')
    expect(leader.get(SEEDED.householdA)!.stamps).toEqual(worker.get(SEEDED.householdA)!.stamps)
    expect(leader.get(SEEDED.householdA)!.fields.headName).toBe('潘建国')
    // The stored value is untouched.
    const stored = await server.store.getRecord(SEEDED.householdA)
    expect(stored!.fields.headPhone).toBe('13800001111')
  })

  it("reads a page with one index range scan per area, on its level's column, in seq order (no sort)", async () => {
    const queries = (
      await server.store.recordsSinceQueries(0, 100, {
        areaIds: [VILLAGE, GRID_D],
        kinds: ['household', 'incident'],
      })
    ).map((query) => query.compile())
    const columns = ['village_id', 'grid_id']
    expect(queries).toHaveLength(columns.length)
    if (server.store.dialect.name === 'postgres') {
      // PostgreSQL plans by statistics: give it a county's worth of records in other areas (rolled back after).
      const details: string[] = []
      const rollback = new Error('rollback')
      await expect(
        server.store.kysely.transaction().execute(async (trx) => {
          await trx.executeQuery(
            CompiledQuery.raw(
              `insert into records (id, kind, grid_id, village_id, town_id, county_id, fields, stamps, deleted, seq,
                 created_at, updated_at)
               select 'bulk-' || i, 'household', $1, $2, $3, $4, '{}', '{}', 0, 1000000 + i, 0, 0
               from generate_series(1, 20000) as i`,
              [GRID_C, VILLAGE_2, TOWN, COUNTY],
            ),
          )
          await trx.executeQuery(CompiledQuery.raw('analyze records'))
          for (const query of queries) {
            const plan = await trx.executeQuery<{ 'QUERY PLAN': string }>(
              CompiledQuery.raw(`explain ${query.sql}`, [...query.parameters]),
            )
            details.push(plan.rows.map((row) => row['QUERY PLAN']).join('\n'))
          }
          throw rollback
        }),
      ).rejects.toBe(rollback)
      for (const [i, column] of columns.entries()) {
        expect(details[i]).toMatch(new RegExp(`Index Scan using records_${column}_seq`))
        expect(details[i]).not.toMatch(/Sort|Seq Scan on records\b/)
      }
      return
    }
    for (const [i, column] of columns.entries()) {
      const plan = await server.store.kysely.executeQuery<{ detail: string }>(
        CompiledQuery.raw(`explain query plan ${queries[i]!.sql}`, [...queries[i]!.parameters]),
      )
      const detail = plan.rows.map((row) => row.detail).join('\n')
      expect(detail).toContain(`USING INDEX records_${column}_seq (${column}=? AND seq>?)`)
      expect(detail).not.toMatch(/TEMP B-TREE|SCAN records\b/)
    }
  })

  it("merges the areas' records into one page in seq order, each record once, and stops at the limit", async () => {
    // A village and a grid inside it: the grid's records match twice, and come once.
    const all = await server.store.listRecordsSince(0, 1000, {
      areaIds: [VILLAGE, GRID_A],
      kinds: ['household'],
    })
    const seqs = all.map((record) => record.seq)
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    expect(new Set(all.map((record) => record.id)).size).toBe(all.length)
    expect(all.length).toBeGreaterThanOrEqual(2)
    const page = await server.store.listRecordsSince(seqs[0]!, 1, {
      areaIds: [VILLAGE, GRID_A],
      kinds: ['household'],
    })
    expect(page.map((record) => record.seq)).toEqual(seqs.slice(1, 2))
  })

  it('pages across several areas as one merged list: each record once, in seq order, every page full', async () => {
    // Households interleaved over four grids, so that every area's scan holds records the page does not keep.
    const grids = [GRID_A, GRID_C, GRID_D, GRID_B]
    await pushOk(
      adminToken,
      ADMIN_DEVICE,
      Array.from({ length: 24 }, (_, i) =>
        createOp(
          9 + i,
          id(200 + i),
          stamp(-50_000 + i, ADMIN_DEVICE),
          householdFields({ gridId: grids[i % 4] }),
        ),
      ),
    )
    // A village and a grid inside it (its records match twice), another village's grid, and a village of another town.
    const filter = {
      areaIds: [VILLAGE, GRID_A, GRID_C, VILLAGE_3],
      kinds: ['household', 'incident'] as const,
    }
    const everything = await server.store.listRecordsSince(0, 10_000)
    const covered = everything.filter(
      (r) =>
        (filter.kinds as readonly string[]).includes(r.kind) &&
        [r.scope.gridId, r.scope.villageId].some((area) => filter.areaIds.includes(area)),
    )
    expect(covered.length).toBeGreaterThan(20)
    for (const limit of [1, 2, 3, 5, 100]) {
      const got: string[] = []
      for (let since = 0; ;) {
        const page = await server.store.listRecordsSince(since, limit, filter)
        expect(page).toHaveLength(Math.min(limit, covered.length - got.length))
        if (page.length === 0) break
        got.push(...page.map((r) => r.id))
        since = page.at(-1)!.seq
      }
      expect(got).toEqual(covered.map((r) => r.id))
    }
  })
})

describe('push by scope and role', () => {
  it('refuses out-of-scope and forbidden ops one by one, naming the grid, and applies the rest', async () => {
    await addUser(server, 'worker', 'worker', [GRID_A])
    const W = 'dev-worker-01'
    const token = await login(server, 'worker', W)
    const page = await pullAll(token, W)
    const base = page.records.find((r) => r.id === SEEDED.householdA)!.stamps
    const res = await pushOk(token, W, [
      createOp(1, id(101), stamp(-9000, W), householdFields({ gridId: GRID_A })),
      createOp(2, id(102), stamp(-8000, W), householdFields({ gridId: GRID_D })),
      editOp(3, SEEDED.householdD, stamp(-7000, W), { notes: '越界修改' }, { notes: null }),
      editOp(4, SEEDED.householdA, stamp(-6000, W), { gridId: GRID_D }, { gridId: base.gridId! }),
      deleteOp(5, SEEDED.incidentA, stamp(-5000, W), {}, 'incident'),
      editOp(6, SEEDED.householdA, stamp(-4000, W), { notes: '已走访' }, { notes: base.notes! }),
      createOp(7, id(103), stamp(-3000, W), householdFields({ gridId: GRID_B })),
      deleteOp(8, SEEDED.placeA, stamp(-2000, W), {}, 'place'),
    ])
    const outcome = res.results.map((r) => (r.status === 'refused' ? r.code : r.status))
    expect(outcome).toEqual([
      'applied',
      'out_of_scope',
      'out_of_scope',
      'out_of_scope',
      'forbidden',
      'applied',
      'out_of_scope',
      'applied',
    ])
    const reasons = res.results.flatMap((r) => (r.status === 'refused' ? [r.reason] : []))
    expect(reasons[0]).toContain('高家堂村第一网格')
    expect(reasons[0]).toContain(GRID_D)
    expect(reasons[3]).toMatch(/网格员.*删除.*事件/)
    expect(reasons[4]).toContain('余村第二网格')

    const db = server.store.kysely
    const rows = await db.selectFrom('records').select(['id', 'grid_id', 'deleted']).execute()
    const row = (rid: string) => rows.find((r) => r.id === rid)
    expect(row(id(101))).toMatchObject({ grid_id: GRID_A })
    expect(row(id(102))).toBeUndefined()
    expect(row(id(103))).toBeUndefined()
    expect(row(SEEDED.householdA)).toMatchObject({ grid_id: GRID_A, deleted: 0 })
    expect((await server.store.getRecord(SEEDED.householdA))!.fields.notes).toBe('已走访')
    expect((await server.store.getRecord(SEEDED.householdD))!.fields.notes).toBeNull()
    expect(row(SEEDED.incidentA)).toMatchObject({ deleted: 0 })
    expect(row(SEEDED.placeA)).toMatchObject({ deleted: 1 })
    // Refused ops are not remembered: once the cause is gone, the retry is judged again.
    await patchUser('worker', { areaIds: [GRID_A, GRID_D] })
    const retry = await pushOk(token, W, [
      createOp(2, id(102), stamp(-8000, W), householdFields({ gridId: GRID_D })),
    ])
    expect(retry.results).toEqual([{ seq: 2, status: 'applied' }])
  })

  it('lets a handler update incidents in scope but not create them or touch households', async () => {
    const handler = await addUser(server, 'handler', 'handler', [TOWN])
    const H = 'dev-handler-1'
    const token = await login(server, 'handler', H)
    // The closed loop: a handler only takes up an incident dispatched to it.
    const seen = (await pullAll(token, H)).records.find((r) => r.id === SEEDED.incidentA)!
    const dispatched = await push(server, adminToken, ADMIN_DEVICE, [
      editOp(
        9,
        SEEDED.incidentA,
        stamp(-5000, ADMIN_DEVICE),
        { status: 'accepted', acceptedAt: T0 },
        { status: seen.stamps.status! },
        'incident',
      ),
      editOp(
        10,
        SEEDED.incidentA,
        stamp(-4000, ADMIN_DEVICE),
        { status: 'dispatched', dispatchedAt: T0, handlerId: handler.id, deadlineAt: T0 + 86_400_000 },
        { status: stamp(-5000, ADMIN_DEVICE) },
        'incident',
      ),
    ])
    expect(dispatched.body.results.map((r: { status: string }) => r.status)).toEqual(['applied', 'applied'])
    const incident = (await pullAll(token, H)).records.find((r) => r.id === SEEDED.incidentA)!
    const res = await pushOk(token, H, [
      editOp(
        1,
        SEEDED.incidentA,
        stamp(-3000, H),
        { status: 'in_progress', startedAt: T0 },
        { status: incident.stamps.status! },
        'incident',
      ),
      createOp(2, id(201), stamp(-2000, H), incidentFields(GRID_A), 'incident'),
      editOp(3, SEEDED.householdA, stamp(-1000, H), { notes: '看看' }, { notes: null }),
      editOp(4, SEEDED.incidentD, stamp(-500, H), { status: 'handled' }, { status: null }, 'incident'),
    ])
    expect(res.results.map((r) => (r.status === 'refused' ? r.code : r.status))).toEqual([
      'applied',
      'forbidden',
      'forbidden',
      'out_of_scope',
    ])
    expect((res.results[1] as { reason: string }).reason).toContain('责任单位不能新建事件')
    expect((await server.store.getRecord(SEEDED.incidentA))!.fields.status).toBe('in_progress')
  })
})

describe('scopeKey and the records that leave a phone', () => {
  it('is the same for the same role and areas (in any order) and changes with role, areas and grid moves', async () => {
    await addUser(server, 'one', 'leader', [VILLAGE, GRID_C])
    await addUser(server, 'two', 'leader', [GRID_C, VILLAGE])
    const keyOf = async (username: string) =>
      (await pullAll(await login(server, username, `device-${username}`), `device-${username}`)).scopeKey
    const first = await keyOf('one')
    expect(await keyOf('two')).toBe(first)
    expect(await keyOf('one')).toBe(first)

    await patchUser('one', { role: 'worker' })
    const afterRole = await keyOf('one')
    expect(afterRole).not.toBe(first)
    await patchUser('one', { areaIds: [VILLAGE] })
    const afterAreas = await keyOf('one')
    expect(afterAreas).not.toBe(afterRole)
    // A display name is not scope.
    await patchUser('one', { displayName: '新名字' })
    expect(await keyOf('one')).toBe(afterAreas)

    const beforeTree = await keyOf('two')
    const renamed = await request(server.app)
      .patch(`/api/admin/areas/${GRID_D}`)
      .set(bearer(adminToken))
      .send({ name: '高家堂村一组' })
    expect(renamed.status).toBe(200)
    // A new name changes no record's scope: no phone needs to pull everything again.
    const afterRename = await keyOf('two')
    expect(afterRename).toBe(beforeTree)
    expect((await moveGrid(GRID_B, VILLAGE_2)).status).toBe(200)
    expect(await keyOf('two')).not.toBe(afterRename)
  })

  it('after reassignment: a pending edit of the old scope is refused with a reason, a pull from 0 brings only the new scope', async () => {
    await addUser(server, 'worker', 'worker', [GRID_A])
    const W = 'dev-worker-01'
    const token = await login(server, 'worker', W)
    const before = await pullAll(token, W)
    expect(ids(before)).toContain(SEEDED.householdA)
    const base = before.records.find((r) => r.id === SEEDED.householdA)!.stamps

    // An edit pushed before the reassignment reaches the server.
    const pushed = await pushOk(token, W, [
      editOp(1, SEEDED.householdA, stamp(-5000, W), { notes: '搬走前的走访' }, { notes: base.notes! }),
    ])
    expect(pushed.results).toEqual([{ seq: 1, status: 'applied' }])

    await patchUser('worker', { areaIds: [GRID_D] })
    // The phone's queued edit, pushed after: refused with the grid's name, for the device to keep and show.
    const late = await pushOk(token, W, [
      editOp(2, SEEDED.householdA, stamp(-4000, W), { memberCount: 5 }, { memberCount: base.memberCount! }),
    ])
    expect(late.results[0]).toMatchObject({ status: 'refused', code: 'out_of_scope' })
    expect((late.results[0] as { reason: string }).reason).toContain('余村第一网格')

    const after = await pullAll(token, W)
    expect(after.scopeKey).not.toBe(before.scopeKey)
    expect(ids(after)).toEqual([SEEDED.householdD, SEEDED.incidentD].sort())
    expect((await server.store.getRecord(SEEDED.householdA))!.fields).toMatchObject({
      notes: '搬走前的走访',
      memberCount: 3,
    })
  })

  it('moves a grid to another village in one job: new ancestors and new seqs for its records, in their old order', async () => {
    await addUser(server, 'old_leader', 'leader', [VILLAGE])
    await addUser(server, 'new_leader', 'leader', [VILLAGE_2])
    await addUser(server, 'grid_worker', 'worker', [GRID_B])
    const oldLeader = await login(server, 'old_leader', 'dev-old-leader')
    const newLeader = await login(server, 'new_leader', 'dev-new-leader')
    const gridWorker = await login(server, 'grid_worker', 'dev-grid-worker')
    const oldPage = await pullAll(oldLeader, 'dev-old-leader')
    const newPage = await pullAll(newLeader, 'dev-new-leader')
    const workerPage = await pullAll(gridWorker, 'dev-grid-worker')
    const recordsOfB = async () =>
      server.store.kysely
        .selectFrom('records')
        .selectAll()
        .where('grid_id', '=', GRID_B)
        .orderBy('seq')
        .execute()
    const before = await recordsOfB()
    expect(before.map((r) => r.id)).toEqual([SEEDED.householdB, SEEDED.incidentB])
    const maxSeq = (
      await server.store.kysely.selectFrom('server_state').select('seq').executeTakeFirstOrThrow()
    ).seq
    const version = await server.store.areasVersion()

    const res = await moveGrid(GRID_B, VILLAGE_2)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      area: {
        id: GRID_B,
        level: 'grid',
        name: '余村第二网格',
        parentId: VILLAGE_2,
        geometry: expect.any(Object),
      },
      movedRecords: 2,
    })
    const after = await recordsOfB()
    expect(after.map((r) => r.id)).toEqual(before.map((r) => r.id))
    expect(after.map((r) => r.seq)).toEqual([maxSeq + 1, maxSeq + 2])
    for (const [i, row] of after.entries()) {
      expect(row).toMatchObject({ village_id: VILLAGE_2, town_id: TOWN, county_id: COUNTY })
      expect([row.fields, row.stamps]).toEqual([before[i]!.fields, before[i]!.stamps])
    }
    expect(await server.store.areasVersion()).toBe(version + 1)
    const nextSeq = (
      await server.store.kysely.selectFrom('server_state').select('seq').executeTakeFirstOrThrow()
    ).seq
    expect(nextSeq).toBe(maxSeq + 2)

    // The new village's leader gets them on an ordinary pull from its cursor; the old one, from 0, no longer does.
    const gained = await pullAll(newLeader, 'dev-new-leader', newPage.cursor)
    expect(ids(gained)).toEqual([SEEDED.householdB, SEEDED.incidentB].sort())
    expect(gained.records.every((r) => r.scope.villageId === VILLAGE_2)).toBe(true)
    const rebuilt = await pullAll(oldLeader, 'dev-old-leader')
    expect(rebuilt.scopeKey).not.toBe(oldPage.scopeKey)
    expect(ids(rebuilt)).not.toContain(SEEDED.householdB)
    expect(ids(rebuilt)).toContain(SEEDED.householdA)
    // A worker assigned the grid itself keeps it, with its new ancestors.
    const workerAfter = await pullAll(gridWorker, 'dev-grid-worker', workerPage.cursor)
    expect(ids(workerAfter)).toEqual([SEEDED.householdB, SEEDED.incidentB].sort())

    // New records in the moved grid get the new ancestors too.
    const s = stamp(-100, ADMIN_DEVICE)
    await pushOk(adminToken, ADMIN_DEVICE, [createOp(9, id(301), s, householdFields({ gridId: GRID_B }))])
    expect((await server.store.getRecord(id(301)))!.scope.villageId).toBe(VILLAGE_2)
  })
})
