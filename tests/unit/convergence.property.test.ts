/**
 * Five simulated devices and a server, built from the pure core only, under random edits, deletes, pushes whose
 * answers get lost, replayed batches and pulls in random order. After everyone has pushed and pulled, every replica
 * equals the server, each field holds its highest-stamped write, and the server's conflict rows are exactly the
 * superseded concurrent edits an independent oracle finds (it tracks who saw which value, not stamps).
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { createClock, formatStamp, receive, tick, type Clock, type Stamp } from '#shared/sync/hlc.ts'
import {
  applyPatch,
  DELETED_FIELD,
  emptyState,
  findConflicts,
  patchOfOp,
  writesOfOp,
  type FieldWrite,
  type RecordState,
} from '#shared/sync/merge.ts'
import type { Op, OpResult, ServerRecord } from '#shared/sync/protocol.ts'
import { receiveRemote, releaseHeld, type Replica } from '#shared/sync/replica.ts'

const FIELDS = ['a', 'b', 'c'] as const
const DEVICES = 5

class SimServer {
  records = new Map<string, { state: RecordState; writes: Map<string, FieldWrite>; seq: number }>()
  applied = new Map<string, OpResult>()
  seq = 0
  clock: Clock = createClock('server')

  push(deviceId: string, ops: Op[], now: number): { clock: Stamp; results: OpResult[] } {
    const results = ops.map((op) => {
      const key = `${deviceId}/${op.seq}`
      const known = this.applied.get(key)
      if (known) return known
      let record = this.records.get(op.id)
      let result: OpResult
      if (!record && (op.type === 'delete' || !op.create)) {
        result = { seq: op.seq, status: 'refused', code: 'unknown_record', reason: 'unknown record' }
      } else {
        record ??= { state: emptyState(), writes: new Map(), seq: 0 }
        this.records.set(op.id, record)
        for (const write of writesOfOp(op)) record.writes.set(`${write.field}/${write.stamp}`, write)
        const { state, changed } = applyPatch(record.state, patchOfOp(op), op.stamp)
        record.state = state
        if (changed.length > 0) record.seq = ++this.seq
        this.clock = receive(this.clock, op.stamp, now)
        result = { seq: op.seq, status: 'applied' }
      }
      this.applied.set(key, result)
      return result
    })
    return { clock: this.stamp(now), results }
  }

  pull(
    since: number,
    limit: number,
    now: number,
  ): { clock: Stamp; records: ServerRecord[]; cursor: number; more: boolean } {
    const changed = [...this.records.entries()]
      .filter(([, r]) => r.seq > since)
      .sort(([, a], [, b]) => a.seq - b.seq)
    const page = changed.slice(0, limit)
    const records = page.map(([id, r]) => ({
      kind: 'household' as const,
      id,
      fields: r.state.fields,
      stamps: r.state.stamps,
      seq: r.seq,
      scope: { gridId: 'g', villageId: 'v', townId: 't', countyId: 'c' },
    }))
    return {
      clock: this.stamp(now),
      records,
      cursor: page.at(-1)?.[1].seq ?? since,
      more: changed.length > limit,
    }
  }

  private stamp(now: number): Stamp {
    const next = tick(this.clock, now)
    this.clock = next.clock
    return next.stamp
  }
}

/** What the oracle knows of a write: its unique value and the value its author had on screen before it. */
interface Witnessed {
  recordId: string
  field: string
  value: unknown
  stamp: Stamp
  parent: unknown
  /** For deletes: what the deleter had on screen for every field. */
  context?: Record<string, unknown>
}

class SimDevice {
  clock: Clock
  records = new Map<string, Replica>()
  outbox: Op[] = []
  sent: Op[][] = []
  nextSeq = 1
  cursor = 0
  constructor(
    readonly id: string,
    readonly skew: number,
  ) {
    this.clock = createClock(id)
  }

  private stampNow(now: number): Stamp {
    const next = tick(this.clock, now + this.skew)
    this.clock = next.clock
    return next.stamp
  }

  write(id: string, patch: Record<string, unknown>, now: number, create: boolean, log: Witnessed[]): void {
    const local = this.records.get(id) ?? emptyState()
    const stamp = this.stampNow(now)
    const base = Object.fromEntries(Object.keys(patch).map((f) => [f, local.stamps[f] ?? null]))
    for (const [field, value] of Object.entries(patch)) {
      log.push({ recordId: id, field, value, stamp, parent: local.fields[field] ?? null })
    }
    this.outbox.push({
      type: 'put',
      seq: this.nextSeq++,
      kind: 'household',
      id,
      stamp,
      base,
      create,
      fields: patch,
    })
    this.records.set(id, applyPatch(local, patch, stamp).state)
  }

  remove(id: string, now: number, log: Witnessed[]): void {
    const local = this.records.get(id)!
    const stamp = this.stampNow(now)
    const base: Record<string, Stamp | null> = {
      ...local.stamps,
      [DELETED_FIELD]: local.stamps[DELETED_FIELD] ?? null,
    }
    log.push({
      recordId: id,
      field: DELETED_FIELD,
      value: true,
      stamp,
      parent: null,
      context: Object.fromEntries(FIELDS.map((f) => [f, local.fields[f] ?? null])),
    })
    this.outbox.push({ type: 'delete', seq: this.nextSeq++, kind: 'household', id, stamp, base })
    this.records.set(id, applyPatch(local, { [DELETED_FIELD]: true }, stamp).state)
  }

  push(server: SimServer, max: number, lose: boolean, now: number): void {
    const batch = this.outbox.slice(0, max)
    if (batch.length === 0) return
    this.sent.push(batch)
    const response = server.push(this.id, batch, now)
    if (lose) return
    this.acknowledge(response)
  }

  replay(server: SimServer, which: number, now: number): void {
    if (this.sent.length === 0) return
    this.acknowledge(server.push(this.id, this.sent[which % this.sent.length]!, now))
  }

  private acknowledge(response: { clock: Stamp; results: OpResult[] }): void {
    this.clock = receive(this.clock, response.clock, 0)
    const done = new Set(response.results.map((r) => r.seq))
    for (const r of response.results) expect(r.status).toBe('applied')
    const settled = new Set(this.outbox.filter((op) => done.has(op.seq)).map((op) => op.id))
    this.outbox = this.outbox.filter((op) => !done.has(op.seq))
    for (const id of settled) this.records.set(id, releaseHeld(this.records.get(id)!, this.pendingFields(id)))
  }

  pendingFields(id: string): Set<string> {
    return new Set(this.outbox.filter((op) => op.id === id).flatMap((op) => Object.keys(patchOfOp(op))))
  }

  pull(server: SimServer, now: number): void {
    for (let more = true; more;) {
      const page = server.pull(this.cursor, 3, now)
      this.clock = receive(this.clock, page.clock, 0)
      for (const remote of page.records) {
        const local = this.records.get(remote.id) ?? emptyState()
        const remoteState = { fields: remote.fields, stamps: remote.stamps }
        this.records.set(remote.id, receiveRemote(local, remoteState, this.pendingFields(remote.id)))
      }
      this.cursor = page.cursor
      more = page.more
    }
  }

  liveRecordIds(): string[] {
    // Sorted, so that small indexes pick the same few records on every device: contention is the point.
    return [...this.records.entries()]
      .filter(([, r]) => r.fields[DELETED_FIELD] !== true)
      .map(([id]) => id)
      .sort()
  }
}

type Action =
  | { t: 'create'; d: number }
  | { t: 'edit'; d: number; r: number; f: number; g: number }
  | { t: 'delete'; d: number; r: number }
  | { t: 'push'; d: number; n: number; lose: boolean }
  | { t: 'replay'; d: number; which: number }
  | { t: 'pull'; d: number }
  | { t: 'time'; ms: number }

const dev = fc.nat(DEVICES - 1)
const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ t: fc.constant('create' as const), d: dev }),
  {
    arbitrary: fc.record({
      t: fc.constant('edit' as const),
      d: dev,
      r: fc.nat(3),
      f: fc.nat(2),
      g: fc.nat(2),
    }),
    weight: 6,
  },
  fc.record({ t: fc.constant('delete' as const), d: dev, r: fc.nat(3) }),
  {
    arbitrary: fc.record({
      t: fc.constant('push' as const),
      d: dev,
      n: fc.integer({ min: 1, max: 3 }),
      lose: fc.boolean(),
    }),
    weight: 2,
  },
  fc.record({ t: fc.constant('replay' as const), d: dev, which: fc.nat(20) }),
  { arbitrary: fc.record({ t: fc.constant('pull' as const), d: dev }), weight: 4 },
  fc.record({ t: fc.constant('time' as const), ms: fc.integer({ min: 0, max: 50 }) }),
)

/** The conflicts the oracle expects, from who-saw-what alone: leaves of each field's write tree, minus the winner. */
function expectedConflicts(log: Witnessed[], recordId: string): string[] {
  const mine = log.filter((w) => w.recordId === recordId)
  const out: string[] = []
  const parentOf = new Map<unknown, unknown>()
  const leavesByField = new Map<string, Witnessed[]>()
  for (const field of [...FIELDS, DELETED_FIELD]) {
    const writes = mine.filter((w) => w.field === field)
    if (writes.length === 0) continue
    for (const w of writes) if (field !== DELETED_FIELD) parentOf.set(w.value, w.parent)
    const parents = new Set(writes.map((w) => w.parent))
    const leaves = field === DELETED_FIELD ? writes : writes.filter((w) => !parents.has(w.value))
    leavesByField.set(field, leaves)
    const winner = writes.reduce((a, b) => (b.stamp > a.stamp ? b : a))
    for (const leaf of leaves)
      if (leaf !== winner && leaf.value !== winner.value) out.push(`edit/${field}/${String(leaf.value)}`)
  }
  const deletes = leavesByField.get(DELETED_FIELD)
  if (deletes) {
    const winner = deletes.reduce((a, b) => (b.stamp > a.stamp ? b : a))
    for (const field of FIELDS) {
      const seen = new Set<unknown>()
      for (let at = winner.context?.[field] ?? null; at !== null; at = parentOf.get(at) ?? null) seen.add(at)
      for (const leaf of leavesByField.get(field) ?? [])
        if (!seen.has(leaf.value)) out.push(`delete/${field}/${String(leaf.value)}`)
    }
  }
  return out.sort()
}

describe('sync core convergence (property)', () => {
  it('five devices, random edits, deletes, lost answers, replays and reordering: all replicas equal the server, conflicts exact', () => {
    fc.assert(
      fc.property(
        fc.array(action, { minLength: 20, maxLength: 120, size: 'max' }),
        fc.array(fc.integer({ min: -5000, max: 5000 }), { minLength: DEVICES, maxLength: DEVICES }),
        (actions, skews) => {
          const server = new SimServer()
          const devices = skews.map((skew, i) => new SimDevice(`device-${i}`, skew))
          const log: Witnessed[] = []
          let now = 1_000_000
          let ids = 0
          let values = 0
          for (const a of actions) {
            now += 1
            if (a.t === 'time') now += a.ms
            else {
              const d = devices[a.d]!
              const live = d.liveRecordIds()
              if (a.t === 'create') {
                const id = `00000000-0000-7000-8000-${String(++ids).padStart(12, '0')}`
                d.write(id, Object.fromEntries(FIELDS.map((f) => [f, `v${++values}`])), now, true, log)
              } else if (a.t === 'edit' && live.length > 0) {
                const fields = FIELDS.slice(a.f, a.f + 1 + a.g)
                d.write(
                  live[a.r % live.length]!,
                  Object.fromEntries(fields.map((f) => [f, `v${++values}`])),
                  now,
                  false,
                  log,
                )
              } else if (a.t === 'delete' && live.length > 0) d.remove(live[a.r % live.length]!, now, log)
              else if (a.t === 'push') d.push(server, a.n, a.lose, now)
              else if (a.t === 'replay') d.replay(server, a.which, now)
              else if (a.t === 'pull') d.pull(server, now)
            }
          }
          for (const d of devices) while (d.outbox.length > 0) d.push(server, 4, false, ++now)
          for (const d of devices) d.pull(server, ++now)

          for (const [id, record] of server.records) {
            for (const d of devices) expect(d.records.get(id), `${d.id} holds ${id}`).toEqual(record.state)
            for (const field of Object.keys(record.state.fields)) {
              const writes = log.filter((w) => w.recordId === id && w.field === field)
              const highest = writes.reduce((x, y) => (y.stamp > x.stamp ? y : x))
              expect(record.state.fields[field]).toEqual(highest.value)
            }
            const found = findConflicts([...record.writes.values()])
              .map((c) => `${c.type}/${c.field}/${String(c.loser.value)}`)
              .sort()
            expect(found).toEqual(expectedConflicts(log, id))
          }
          expect(server.records.size).toBe(ids)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('scenario: pending field loses on the server', () => {
    const server = new SimServer()
    const [a, b] = [new SimDevice('device-a', 0), new SimDevice('device-b', 1000)]
    const log: Witnessed[] = []
    const id = '00000000-0000-7000-8000-000000000001'
    a.write(id, { a: 'v1', b: 'v2', c: 'v3' }, 1, true, log)
    a.push(server, 10, false, 2)
    b.pull(server, 3)
    a.write(id, { a: 'from-a' }, 4, false, log)
    b.write(id, { a: 'from-b' }, 5, false, log)
    b.push(server, 10, false, 6)
    a.pull(server, 7)
    a.push(server, 10, false, 8)
    a.pull(server, 9)
    expect(a.records.get(id)).toEqual(server.records.get(id)!.state)
  })

  it('the oracle is not vacuous: a plain concurrent edit yields exactly one conflict', () => {
    const server = new SimServer()
    const [a, b] = [new SimDevice('device-a', 0), new SimDevice('device-b', 0)]
    const log: Witnessed[] = []
    const id = '00000000-0000-7000-8000-000000000001'
    a.write(id, { a: 'v1', b: 'v2', c: 'v3' }, 1, true, log)
    a.push(server, 10, false, 2)
    b.pull(server, 3)
    a.write(id, { a: 'from-a' }, 4, false, log)
    b.write(id, { a: 'from-b' }, 5, false, log)
    a.push(server, 10, false, 6)
    b.push(server, 10, false, 7)
    expect(expectedConflicts(log, id)).toEqual(['edit/a/from-a'])
    const found = findConflicts([...server.records.get(id)!.writes.values()]).map(
      (c) => `${c.type}/${c.field}/${String(c.loser.value)}`,
    )
    expect(found).toEqual(['edit/a/from-a'])
    expect(formatStamp(a.clock) < formatStamp(b.clock)).toBe(true)
  })
})
