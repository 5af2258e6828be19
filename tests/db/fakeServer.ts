/**
 * An in-memory stand-in for the sync server that runs the shared core like the real one: per-field merge with
 * applyPatch, idempotent ops per (device, seq), a change sequence for pulls, its own HLC. It can lose a response
 * after applying a batch, fail before applying, answer 401, and refuse ops by rule.
 * Scope: `inScope` says which grids the device's user covers; pulls bring only those records and ops on other
 * grids are refused `out_of_scope`. `scopeKey` goes with every pull page (change it when the scope changes).
 * `wipe` puts `wipe: true` on every answer until the device confirms with `confirmWiped`.
 */
import { createClock, formatStamp, receive, tick } from '#shared/sync/hlc.ts'
import type { Clock, Stamp } from '#shared/sync/hlc.ts'
import { applyPatch, emptyState, patchOfOp } from '#shared/sync/merge.ts'
import type { Fields, RecordState } from '#shared/sync/merge.ts'
import { PROTOCOL_VERSION } from '#shared/sync/protocol.ts'
import type {
  Op,
  OpResult,
  PullQuery,
  PullResponse,
  PushRequest,
  PushResponse,
  ServerRecord,
} from '#shared/sync/protocol.ts'
import type { RecordKind } from '#shared/schemas/records.ts'
import { AuthError, TransportError } from '../../src/sync/ports.ts'
import type { Transport } from '../../src/sync/ports.ts'

interface StoredRecord extends RecordState {
  kind: RecordKind
  seq: number
}

export type Refusal = Extract<OpResult, { status: 'refused' }>

const gridOf = (record: RecordState): string => String(record.fields['gridId'] ?? '')

export class FakeServer implements Transport {
  readonly records = new Map<string, StoredRecord>()
  readonly applied = new Map<string, OpResult>()
  readonly pushes: PushRequest[] = []
  readonly pulls: PullQuery[] = []
  changeSeq = 0
  clock: Clock = createClock('server')
  now = 1_700_000_000_000
  /** 'before': fail without applying; 'after': apply, then lose the response. Used once. */
  failNext: 'before' | 'after' | null = null
  unauthorized = false
  refuse: (op: Op) => Omit<Refusal, 'seq' | 'status'> | null = () => null
  scopeKey = 'scope-1'
  inScope: (gridId: string) => boolean = () => true
  wipe = false
  wipeConfirmations = 0
  /** Called before each pull page is answered (a test can change the scope or fail mid-run). */
  beforePull: (query: PullQuery) => void = () => {}

  async push(request: PushRequest): Promise<PushResponse> {
    this.pushes.push(structuredClone(request))
    this.gate()
    const results = request.ops.map((op) => this.applyOp(request.deviceId, op))
    if (this.failNext === 'after') {
      this.failNext = null
      throw new TransportError('connection reset (response lost)')
    }
    return {
      protocol: PROTOCOL_VERSION,
      clock: this.stamp(),
      results: structuredClone(results),
      ...(this.wipe ? { wipe: true } : {}),
    }
  }

  async pull(query: PullQuery): Promise<PullResponse> {
    this.pulls.push({ ...query })
    this.beforePull(query)
    this.gate()
    const newer = [...this.records.entries()]
      .filter(([, record]) => record.seq > query.since && this.inScope(gridOf(record)))
      .sort(([, a], [, b]) => a.seq - b.seq)
    const page = newer.slice(0, query.limit)
    const more = newer.length > page.length
    const records: ServerRecord[] = page.map(([id, record]) => {
      const gridId = gridOf(record)
      return {
        kind: record.kind,
        id,
        fields: structuredClone(record.fields),
        stamps: { ...record.stamps },
        seq: record.seq,
        scope: {
          gridId,
          villageId: gridId.slice(0, 12),
          townId: gridId.slice(0, 9),
          countyId: gridId.slice(0, 6),
        },
      }
    })
    return {
      protocol: PROTOCOL_VERSION,
      clock: this.stamp(),
      records,
      // Out-of-scope changes are skipped, not waited for: at the end the cursor is the newest change.
      cursor: more ? page.at(-1)![1].seq : Math.max(query.since, this.changeSeq),
      more,
      scopeKey: this.scopeKey,
      ...(this.wipe ? { wipe: true } : {}),
    }
  }

  async confirmWiped(): Promise<void> {
    this.gate()
    this.wipeConfirmations++
    this.wipe = false
  }

  /** A write made by another device that already reached the server. */
  writeFromElsewhere(kind: RecordKind, id: string, fields: Fields, ms: number, node = 'otherdevice'): Stamp {
    const stamp = formatStamp({ ms, counter: 0, node })
    const current = this.records.get(id) ?? { ...emptyState(), kind, seq: 0 }
    const { state, changed } = applyPatch(current, fields, stamp)
    if (changed.length) this.records.set(id, { ...state, kind, seq: ++this.changeSeq })
    return stamp
  }

  state(id: string): RecordState | undefined {
    const record = this.records.get(id)
    return record && { fields: record.fields, stamps: record.stamps }
  }

  private gate(): void {
    if (this.unauthorized) throw new AuthError('token expired')
    if (this.failNext === 'before') {
      this.failNext = null
      throw new TransportError('network down')
    }
  }

  private applyOp(deviceId: string, op: Op): OpResult {
    const key = `${deviceId}:${op.seq}`
    const known = this.applied.get(key)
    if (known) return known
    const result = this.decide(op)
    this.applied.set(key, result)
    return result
  }

  private decide(op: Op): OpResult {
    const refusal = this.refuse(op)
    if (refusal) return { seq: op.seq, status: 'refused', ...refusal }
    const current = this.records.get(op.id)
    const grids = [current && gridOf(current), op.type === 'put' ? op.fields['gridId'] : undefined]
    if (grids.some((grid) => typeof grid === 'string' && !this.inScope(grid))) {
      return { seq: op.seq, status: 'refused', code: 'out_of_scope', reason: '不在您的管辖范围内' }
    }
    if (!current && !(op.type === 'put' && op.create)) {
      return { seq: op.seq, status: 'refused', code: 'unknown_record', reason: 'no such record' }
    }
    this.clock = receive(this.clock, op.stamp, this.now)
    const { state, changed } = applyPatch(current ?? emptyState(), patchOfOp(op), op.stamp)
    if (changed.length) this.records.set(op.id, { ...state, kind: op.kind, seq: ++this.changeSeq })
    return { seq: op.seq, status: 'applied' }
  }

  private stamp(): Stamp {
    const next = tick(this.clock, this.now)
    this.clock = next.clock
    return next.stamp
  }
}
