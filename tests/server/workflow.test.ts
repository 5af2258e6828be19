/**
 * The closed loop on the server: every incident op judged per op (compare-and-set on the status stamp, then the
 * workflow table), with a reason the device shows; and each record's timeline (全流程留痕), scoped and masked.
 * Devices here behave like the app's: an HLC per device, edits naming the stamps they last saw.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import request from 'supertest'
import { DAY_MS, deadlineFor } from '#shared/domain/deadlines.ts'
import { stepPatch, transitionFor, type StepInput, type WorkflowAction } from '#shared/domain/workflow.ts'
import type { IncidentStatus, WorkflowIncident } from '#shared/domain/workflow.ts'
import type { UserRole } from '#shared/schemas/api.ts'
import { timelineSchema } from '#shared/schemas/timeline.ts'
import { createClock, receive, tick, type Clock, type Stamp } from '#shared/sync/hlc.ts'
import { pullResponseSchema, pushResponseSchema, type Op, type OpResult } from '#shared/sync/protocol.ts'
import { seedDemo } from '../../server/seed.ts'
import {
  GRID_A,
  GRID_D,
  T0,
  TOWN,
  TOWN_2,
  VILLAGE,
  addUser,
  bearer,
  householdFields,
  login,
  openTestStore,
  pushBody,
  startTestServer,
} from '../fixtures/serverHarness.ts'
import type { TestServer } from '../fixtures/serverHarness.ts'

let server: TestServer
beforeEach(async () => {
  server = await startTestServer()
})
afterEach(() => server.close())

const INCIDENT = '01900000-0000-7000-8000-00000000e001'
const HOUSEHOLD = '01900000-0000-7000-8000-00000000e002'
const report = (gridId = GRID_A) => ({
  gridId,
  category: 'environment',
  description: '溪边有人倾倒建筑垃圾',
  urgency: 'normal',
  status: 'reported',
  reportedAt: T0 - 60_000,
})

/**
 * A phone or desk of one user: its own clock (receiving every response's, as the app's does) and op sequence, and
 * the stamps it last saw of each record.
 */
class Device {
  private clock: Clock
  private seq = 0
  /** Per record, per field: the stamp and value this device last saw (pulled or written). */
  readonly seen = new Map<string, Map<string, { stamp: Stamp; value: unknown }>>()
  readonly queue: Op[] = []

  constructor(
    readonly user: { id: string; role: UserRole; username: string },
    readonly deviceId: string,
    private readonly token: string,
  ) {
    this.clock = createClock(deviceId)
  }

  static async of(role: UserRole, username: string, areaIds: string[]): Promise<Device> {
    const user = await addUser(server, username, role, areaIds)
    const deviceId = `device-${username}`
    return new Device({ ...user, username }, deviceId, await login(server, username, deviceId))
  }

  private stamp(): Stamp {
    const next = tick(this.clock, server.clock.now)
    this.clock = next.clock
    return next.stamp
  }

  private remember(id: string, fields: Record<string, unknown>, stamp: Stamp) {
    const record = this.seen.get(id) ?? new Map()
    for (const [field, value] of Object.entries(fields)) record.set(field, { stamp, value })
    this.seen.set(id, record)
  }

  fields(id: string): Record<string, unknown> {
    return Object.fromEntries([...(this.seen.get(id) ?? new Map())].map(([f, { value }]) => [f, value]))
  }

  /** Queue a new record (works offline). */
  create(id: string, fields: Record<string, unknown>, kind: Op['kind'] = 'incident') {
    const stamp = this.stamp()
    const base = Object.fromEntries(Object.keys(fields).map((k) => [k, null]))
    this.queue.push({ type: 'put', seq: ++this.seq, kind, id, stamp, base, create: true, fields })
    this.remember(id, fields, stamp)
  }

  /** Queue a field patch naming the stamps this device saw (works offline). */
  edit(id: string, fields: Record<string, unknown>, kind: Op['kind'] = 'incident') {
    const stamp = this.stamp()
    const record = this.seen.get(id)
    const base = Object.fromEntries(Object.keys(fields).map((k) => [k, record?.get(k)?.stamp ?? null]))
    this.queue.push({ type: 'put', seq: ++this.seq, kind, id, stamp, base, create: false, fields })
    this.remember(id, fields, stamp)
  }

  /** Queue a delete naming every field's stamp this device saw. */
  remove(id: string, kind: Op['kind']) {
    const stamp = this.stamp()
    const base = Object.fromEntries([...(this.seen.get(id) ?? new Map())].map(([f, { stamp: s }]) => [f, s]))
    this.queue.push({ type: 'delete', seq: ++this.seq, kind, id, stamp, base })
  }

  /** Queue a step of the closed loop, built as the app builds it. */
  step(id: string, action: WorkflowAction, input: StepInput = {}) {
    const current = this.fields(id) as unknown as WorkflowIncident
    this.edit(id, stepPatch(current, action, this.user, input, server.clock.now))
  }

  /** Push the queue; returns the per-op results (the queue is emptied: refused ops are the caller's to inspect). */
  async push(): Promise<OpResult[]> {
    const ops = this.queue.splice(0)
    const res = await request(server.app)
      .post('/api/sync/push')
      .set(bearer(this.token))
      .send(pushBody(this.deviceId, ops))
    expect(res.status).toBe(200)
    const body = pushResponseSchema.parse(res.body)
    this.clock = receive(this.clock, body.clock, server.clock.now)
    return body.results
  }

  /** Pull everything and take the server's stamps and values (nothing is pending after a push). */
  async pull() {
    const res = await request(server.app)
      .get('/api/sync/pull')
      .query({ deviceId: this.deviceId, since: 0, limit: 5000, protocol: 1 })
      .set(bearer(this.token))
    expect(res.status).toBe(200)
    const body = pullResponseSchema.parse(res.body)
    this.clock = receive(this.clock, body.clock, server.clock.now)
    for (const record of body.records) {
      this.seen.set(
        record.id,
        new Map(Object.entries(record.fields).map(([f, value]) => [f, { stamp: record.stamps[f]!, value }])),
      )
    }
  }

  timeline(id: string) {
    return request(server.app).get(`/api/records/${id}/timeline`).set(bearer(this.token))
  }
}

const outcome = (results: OpResult[]) => results.map((r) => (r.status === 'applied' ? 'applied' : r.code))
const statusOf = async (id: string) => (await server.store.getRecord(id))?.fields.status

interface Cast {
  worker: Device
  leader: Device
  handler: Device
}
async function cast(): Promise<Cast> {
  return {
    worker: await Device.of('worker', 'worker', [GRID_A]),
    leader: await Device.of('leader', 'leader', [VILLAGE]),
    handler: await Device.of('handler', 'handler', [TOWN]),
  }
}

/** Report an incident and take it along the loop up to (and including) `last`, each step by its role. */
async function advance({ worker, leader, handler }: Cast, last: WorkflowAction) {
  const path: [Device, WorkflowAction, StepInput?][] = [
    [leader, 'accept'],
    [leader, 'dispatch', { handlerId: handler.user.id }],
    [handler, 'start'],
    [handler, 'handle', { result: '已清理并设置警示牌' }],
    [worker, 'verify'],
    [leader, 'close'],
    [leader, 'rate', { rating: 5 }],
  ]
  worker.create(INCIDENT, report())
  expect(outcome(await worker.push())).toEqual(['applied'])
  for (const [device, action, input] of path) {
    await device.pull()
    device.step(INCIDENT, action, input)
    expect(outcome(await device.push()), action).toEqual(['applied'])
    if (action === last) return
  }
}

describe('the closed loop, judged per op', () => {
  it('takes an incident from an offline report to its rating, every step applied by its role', async () => {
    const c = await cast()
    // The worker reports offline; the phone syncs later.
    c.worker.create(INCIDENT, report())
    server.clock.now += 5 * 60_000
    expect(outcome(await c.worker.push())).toEqual(['applied'])
    // The leader accepts and dispatches in one batch: the second step builds on the first (its own stamp).
    await c.leader.pull()
    c.leader.step(INCIDENT, 'accept')
    c.leader.step(INCIDENT, 'dispatch', { handlerId: c.handler.user.id })
    expect(outcome(await c.leader.push())).toEqual(['applied', 'applied'])
    const dispatched = (await server.store.getRecord(INCIDENT))!.fields
    expect(dispatched).toMatchObject({ status: 'dispatched', handlerId: c.handler.user.id })
    expect(dispatched.deadlineAt).toBe(deadlineFor('normal', dispatched.dispatchedAt as number))
    // The handler starts and reports it handled.
    await c.handler.pull()
    c.handler.step(INCIDENT, 'start')
    c.handler.step(INCIDENT, 'handle', { result: '已清理并设置警示牌' })
    expect(outcome(await c.handler.push())).toEqual(['applied', 'applied'])
    // The worker verifies on site, offline; meanwhile the leader edits the description (not the status).
    await c.worker.pull()
    c.worker.step(INCIDENT, 'verify')
    await c.leader.pull()
    c.leader.edit(INCIDENT, { description: '溪边有人倾倒建筑垃圾（已核实）' })
    expect(outcome(await c.leader.push())).toEqual(['applied'])
    server.clock.now += 5 * 60_000
    expect(outcome(await c.worker.push())).toEqual(['applied'])
    await c.leader.pull()
    c.leader.step(INCIDENT, 'close')
    c.leader.step(INCIDENT, 'rate', { rating: 4 })
    expect(outcome(await c.leader.push())).toEqual(['applied', 'applied'])
    expect((await server.store.getRecord(INCIDENT))!.fields).toMatchObject({
      status: 'rated',
      result: '已清理并设置警示牌',
      rating: 4,
      description: '溪边有人倾倒建筑垃圾（已核实）',
    })
  })

  it('refuses an illegal transition per op with a reason, and applies the rest of the batch', async () => {
    const { worker } = await cast()
    worker.create(INCIDENT, report())
    await worker.push()
    await worker.pull()
    worker.edit(INCIDENT, { status: 'closed', closedAt: T0 })
    worker.edit(INCIDENT, { description: '补充：垃圾约两车' })
    const results = await worker.push()
    expect(results[0]).toEqual({
      seq: 2,
      status: 'refused',
      code: 'illegal_transition',
      reason: '网格员不能将事件从「已上报」改为「已结案」',
      field: 'status',
    })
    expect(results[1]).toEqual({ seq: 3, status: 'applied' })
    expect((await server.store.getRecord(INCIDENT))!.fields).toMatchObject({
      status: 'reported',
      description: '补充：垃圾约两车',
    })
    expect((await server.store.getRecord(INCIDENT))!.fields.closedAt).toBeUndefined()
  })

  it('refuses a transition whose device had not seen the current status, naming it', async () => {
    const c = await cast()
    const other = await Device.of('leader', 'leader2', [VILLAGE])
    c.worker.create(INCIDENT, report())
    await c.worker.push()
    await c.leader.pull()
    await other.pull()
    c.leader.step(INCIDENT, 'accept')
    expect(outcome(await c.leader.push())).toEqual(['applied'])
    // The other leader still sees it reported and voids it.
    other.step(INCIDENT, 'void', { reason: '重复上报' })
    const [stale] = await other.push()
    expect(stale).toEqual({
      seq: 1,
      status: 'refused',
      code: 'stale_transition',
      reason: '事件已被他人改为「已受理」，请同步后重试',
      field: 'status',
    })
    expect((await server.store.getRecord(INCIDENT))!.fields).toMatchObject({ status: 'accepted' })
    expect((await server.store.getRecord(INCIDENT))!.fields.voidReason).toBeUndefined()
    // Synced, the same leader may void it from where it now is.
    await other.pull()
    other.step(INCIDENT, 'void', { reason: '重复上报' })
    expect(outcome(await other.push())).toEqual(['applied'])
    expect(await statusOf(INCIDENT)).toBe('voided')
  })

  it('answers a retried batch of transitions as before, not as stale', async () => {
    const { worker, leader } = await cast()
    worker.create(INCIDENT, report())
    await worker.push()
    await leader.pull()
    leader.step(INCIDENT, 'accept')
    const ops = [...leader.queue]
    expect(outcome(await leader.push())).toEqual(['applied'])
    leader.queue.push(...ops) // the answer was lost: the phone sends the batch again
    expect(outcome(await leader.push())).toEqual(['applied'])
    expect(await statusOf(INCIDENT)).toBe('accepted')
  })

  it('lets only the handler it was dispatched to take it up, and never edit the report', async () => {
    const c = await cast()
    const otherHandler = await Device.of('handler', 'handler2', [TOWN])
    await advance(c, 'dispatch')
    await otherHandler.pull()
    otherHandler.edit(INCIDENT, { status: 'in_progress', startedAt: T0 })
    await c.handler.pull()
    c.handler.edit(INCIDENT, { description: '改写' })
    c.handler.edit(INCIDENT, { status: 'in_progress', startedAt: T0, description: '改写' })
    const [notTheirs] = await otherHandler.push()
    expect(notTheirs).toMatchObject({ code: 'illegal_transition', field: 'status' })
    expect((notTheirs as { reason: string }).reason).toContain('没有派给你')
    const results = await c.handler.push()
    expect(results.map((r) => (r.status === 'refused' ? [r.code, r.field] : r.status))).toEqual([
      ['forbidden', 'description'],
      ['forbidden', 'description'],
    ])
    expect(await statusOf(INCIDENT)).toBe('dispatched')
  })

  it('dispatches only to an enabled handler covering the grid, with a deadline of at most 15 days', async () => {
    const c = await cast()
    const faraway = await Device.of('handler', 'faraway', [TOWN_2])
    await advance(c, 'accept')
    await c.leader.pull()
    const tries: [string, number | undefined][] = [
      [c.worker.user.id, undefined],
      [faraway.user.id, undefined],
      ['01900000-0000-7000-8000-0000000000ff', undefined],
      [c.handler.user.id, server.clock.now + 16 * DAY_MS],
    ]
    const answers: OpResult[] = []
    for (const [handlerId, deadlineAt] of tries) {
      await c.leader.pull() // each try builds on the server's status again
      c.leader.edit(INCIDENT, {
        status: 'dispatched',
        dispatchedAt: server.clock.now,
        handlerId,
        deadlineAt: deadlineAt ?? server.clock.now + DAY_MS,
      })
      answers.push(...(await c.leader.push()))
    }
    expect(answers.map((r) => r && r.status === 'refused' && [r.code, r.field, r.reason])).toEqual([
      ['workflow', 'handlerId', '派遣对象不是有效的责任单位账号'],
      ['workflow', 'handlerId', '责任单位「测试 faraway」不负责该事件所在的网格'],
      ['workflow', 'handlerId', '派遣对象不是有效的责任单位账号'],
      ['workflow', 'deadlineAt', '处置时限最长为派遣后 15 天'],
    ])
    expect(await statusOf(INCIDENT)).toBe('accepted')
  })

  it('refuses step fields written outside their step', async () => {
    const c = await cast()
    await advance(c, 'handle')
    await c.worker.pull()
    c.worker.edit(INCIDENT, { result: '其实没处理' })
    c.worker.edit(INCIDENT, { status: 'verified', verifiedAt: T0, rating: 5 })
    expect((await c.worker.push()).map((r) => r.status === 'refused' && [r.code, r.field])).toEqual([
      ['workflow', 'result'],
      ['workflow', 'rating'],
    ])
    expect((await server.store.getRecord(INCIDENT))!.fields).toMatchObject({
      status: 'handled',
      result: '已清理并设置警示牌',
    })
  })

  it('judges an edit racing a delete on the tombstone, keeping it as a delete-edit conflict', async () => {
    const { worker, leader } = await cast()
    worker.create(INCIDENT, report())
    await worker.push()
    await worker.pull()
    await leader.pull()
    leader.remove(INCIDENT, 'incident')
    expect(outcome(await leader.push())).toEqual(['applied'])
    worker.edit(INCIDENT, { description: '补充：垃圾约两车' })
    expect(outcome(await worker.push())).toEqual(['applied'])
    const conflicts = await server.store.listConflicts(INCIDENT)
    expect(conflicts.map((c) => [c.type, c.field])).toEqual([['delete', 'description']])
  })

  it('takes an on-the-spot fix (即办件) created closed, and starts everything else as reported', async () => {
    const { worker } = await cast()
    const ids = [1, 2, 3, 4].map((n) => `01900000-0000-7000-8000-00000000f00${n}`)
    const fix = stepPatch(null, 'quick_fix', worker.user, { result: '当场清理干净' }, T0)
    worker.create(ids[0]!, { ...report(), ...fix })
    worker.create(ids[1]!, { ...report(), status: 'closed', closedAt: T0, result: '当场清理' })
    worker.create(ids[2]!, { ...report(), status: 'accepted', acceptedAt: T0 })
    worker.create(ids[3]!, { ...report(), status: 'reported', result: '已处理' })
    expect((await worker.push()).map((r) => (r.status === 'refused' ? [r.code, r.field] : r.status))).toEqual(
      ['applied', ['workflow', 'quickFix'], ['illegal_transition', 'status'], ['workflow', 'result']],
    )
    expect((await server.store.getRecord(ids[0]!))!.fields).toMatchObject({
      status: 'closed',
      quickFix: true,
      result: '当场清理干净',
    })
    for (const id of ids.slice(1)) expect(await server.store.getRecord(id)).toBeNull()
  })
})

describe('the timeline of a record', () => {
  it('holds every step: who, when, from which device, from and to which status', async () => {
    const c = await cast()
    await advance(c, 'rate')
    const res = await c.leader.timeline(INCIDENT)
    expect(res.status).toBe(200)
    const timeline = timelineSchema.parse(res.body)
    expect(timeline).toMatchObject({ id: INCIDENT, kind: 'incident' })
    const steps = timeline.entries.map((e) => [e.status?.from ?? null, e.status?.to, e.userName, e.deviceId])
    expect(steps).toEqual([
      [null, 'reported', '测试 worker', 'device-worker'],
      ['reported', 'accepted', '测试 leader', 'device-leader'],
      ['accepted', 'dispatched', '测试 leader', 'device-leader'],
      ['dispatched', 'in_progress', '测试 handler', 'device-handler'],
      ['in_progress', 'handled', '测试 handler', 'device-handler'],
      ['handled', 'verified', '测试 worker', 'device-worker'],
      ['verified', 'closed', '测试 leader', 'device-leader'],
      ['closed', 'rated', '测试 leader', 'device-leader'],
    ])
    const stamps = timeline.entries.map((e) => e.stamp)
    expect([...stamps].sort()).toEqual(stamps)
    const handled = timeline.entries[4]!
    expect(handled.fields).toEqual({
      status: 'handled',
      handledAt: expect.any(Number),
      result: '已清理并设置警示牌',
    })
    expect(handled.userId).toBe(c.handler.user.id)
    expect(timeline.entries[0]!.fields).toMatchObject(report())
    expect(timeline.entries.every((e) => e.deleted === false && e.at > 0 && e.receivedAt === T0)).toBe(true)
    // Every field write of the history is in exactly one entry.
    const writes = await server.store.listWrites(INCIDENT)
    expect(timeline.entries.reduce((n, e) => n + Object.keys(e.fields).length, 0)).toBe(writes.length)
  })

  it('masks sensitive values for a role that does not see them in clear, and shows a delete', async () => {
    const { worker, leader } = await cast()
    worker.create(HOUSEHOLD, householdFields({ gridId: GRID_A, headPhone: '13812345678' }), 'household')
    await worker.push()
    await worker.pull()
    worker.edit(HOUSEHOLD, { headPhone: '13987654321' }, 'household')
    await worker.push()
    await leader.pull()
    leader.remove(HOUSEHOLD, 'household')
    expect(outcome(await leader.push())).toEqual(['applied'])
    const phones = async (device: Device) =>
      timelineSchema
        .parse((await device.timeline(HOUSEHOLD)).body)
        .entries.map((e) => e.fields.headPhone ?? e.deleted)
    expect(await phones(worker)).toEqual(['13812345678', '13987654321', true])
    expect(await phones(leader)).toEqual(['138****5678', '139****4321', true])
  })

  it('follows the rules of GET /api/records/:kind/:id: out of scope 404, a kind the role never reads 403', async () => {
    const c = await cast()
    const elsewhere = await Device.of('worker', 'elsewhere', [GRID_D])
    c.worker.create(INCIDENT, report())
    c.worker.create(HOUSEHOLD, householdFields({ gridId: GRID_A }), 'household')
    await c.worker.push()
    expect((await elsewhere.timeline(INCIDENT)).status).toBe(404)
    expect((await c.handler.timeline(HOUSEHOLD)).status).toBe(403)
    expect((await c.handler.timeline(INCIDENT)).status).toBe(200)
    expect((await c.worker.timeline('01900000-0000-7000-8000-0000000000aa')).status).toBe(404)
    expect((await c.worker.timeline('not-an-id')).status).toBe(400)
    expect((await request(server.app).get(`/api/records/${INCIDENT}/timeline`)).status).toBe(401)
  })
})

describe('the demo seed', () => {
  it('takes every seeded incident along legal steps, each by a role that may take it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridpatrol-workflow-seed-'))
    const { store, dispose } = await openTestStore(dir, 'seed')
    try {
      let n = 0
      await seedDemo(store, {
        now: T0,
        random: (size) => Uint8Array.from({ length: size }, () => n++ & 0xff),
      })
      const incidents = (await store.listRecordsSince(0, 10_000)).filter((r) => r.kind === 'incident')
      const reached = new Set<unknown>()
      for (const incident of incidents) {
        const writes = (await store.listWrites(incident.id)).filter((w) => w.field === 'status')
        writes.sort((a, b) => (a.stamp < b.stamp ? -1 : 1))
        let from: IncidentStatus | null = null
        for (const write of writes) {
          const author = await store.getUser(write.userId)
          const step = transitionFor(from, write.value as IncidentStatus)
          expect(step, `${incident.id}: ${from} → ${String(write.value)}`).toBeDefined()
          expect(step!.roles).toContain(author!.role)
          from = write.value as IncidentStatus
        }
        expect(incident.fields.status).toBe(from)
        reached.add(from)
      }
      expect(reached.size).toBeGreaterThanOrEqual(9)
      // Among them on-the-spot fixes (即办件), created closed.
      expect(incidents.filter((r) => r.fields.quickFix === true).length).toBeGreaterThan(0)
    } finally {
      await dispose()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
