import { validateFields } from '#shared/schemas/records.ts'
import type { RecordKind } from '#shared/schemas/records.ts'
import { ClockError, createClock, formatStamp, parseStamp, receive, stampDrift } from '#shared/sync/hlc.ts'
import type { Clock } from '#shared/sync/hlc.ts'
import {
  DELETED_FIELD,
  applyPatch,
  emptyState,
  findConflicts,
  isDeleted,
  patchOfOp,
  writesOfOp,
} from '#shared/sync/merge.ts'
import { PROTOCOL_VERSION } from '#shared/sync/protocol.ts'
import type {
  Op,
  OpResult,
  PullResponse,
  PushResponse,
  RefusalCode,
  ServerRecord,
} from '#shared/sync/protocol.ts'
import type { ConflictRow, StoreOps, StoredRecord, StoredWrite, SyncStore, User } from '../store/SyncStore.ts'

export const SERVER_NODE = 'server'

export interface SyncService {
  push(user: User, deviceId: string, ops: readonly Op[], now: number): Promise<PushResponse>
  pull(user: User, deviceId: string, since: number, limit: number, now: number): Promise<PullResponse>
  getRecord(kind: RecordKind, id: string): Promise<ServerRecord | null>
  listConflicts(recordId: string): Promise<ConflictRow[]>
}

export interface SyncServiceOptions {
  store: SyncStore
  maxClockDriftMs: number
}

type Outcome = { result: OpResult; clock?: Clock }

export function toServerRecord(record: StoredRecord): ServerRecord {
  return {
    kind: record.kind,
    id: record.id,
    fields: record.fields,
    stamps: record.stamps,
    seq: record.seq,
    scope: record.scope,
  }
}

/** "12 分 30 秒", "2 小时 5 分": how far a phone's clock runs ahead, for the person holding it. */
export function formatDuration(ms: number): string {
  const seconds = Math.ceil(ms / 1000)
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  if (h > 0) return `${h} 小时 ${m} 分`
  if (m > 0) return s > 0 ? `${m} 分 ${s} 秒` : `${m} 分钟`
  return `${s} 秒`
}

/**
 * The sync service: the shared pure core (HLC, per-field merge, conflicts) over the store port.
 *
 * Invariants:
 * - A push batch is one transaction. An applied op is remembered per (device, op seq) in that transaction, so a
 *   retried batch gets the stored answers and changes nothing. A refused op changed nothing and is not remembered:
 *   a retry is judged again (the device may retry once the cause, e.g. its clock, is fixed).
 * - A record gets a new server seq only when its merged state changed; pulls page by that seq.
 * - Conflict rows are recomputed from the record's whole write history (order-independent), never from arrival.
 * - The server clock only receives accepted stamps, so a phone with a wrong clock cannot drag it forward; it is kept
 *   in the store so that it never goes backwards across restarts.
 */
export function createSyncService({ store, maxClockDriftMs }: SyncServiceOptions): SyncService {
  let clock: Clock | null = null

  async function currentClock(tx: StoreOps): Promise<Clock> {
    if (clock) return clock
    const saved = await tx.loadClock()
    return saved ? { ...parseStamp(saved), node: SERVER_NODE } : createClock(SERVER_NODE)
  }

  /** The clock as of `now`, never behind any stamp it has received. */
  const atNow = (c: Clock, now: number): Clock =>
    Math.floor(now) > c.ms ? { ms: Math.floor(now), counter: 0, node: c.node } : c

  async function applyOp(tx: StoreOps, c: Clock, user: User, deviceId: string, op: Op, now: number) {
    const refuse = (code: RefusalCode, reason: string, field?: string): Outcome => ({
      result: { seq: op.seq, status: 'refused', code, reason, ...(field === undefined ? {} : { field }) },
    })

    const drift = stampDrift(op.stamp, now)
    if (drift > maxClockDriftMs) {
      return refuse(
        'clock_skew',
        `手机时间比服务器快了 ${formatDuration(drift)}（最多允许 ${formatDuration(maxClockDriftMs)}），` +
          `请把手机设为自动获取网络时间后再同步`,
      )
    }
    let nextClock: Clock
    try {
      nextClock = receive(c, op.stamp, now)
    } catch (error) {
      if (!(error instanceof ClockError)) throw error
      return refuse('clock_skew', `时间戳无效：${error.message}`)
    }

    if (op.type === 'put') {
      if (DELETED_FIELD in op.fields) {
        return refuse('invalid_field', '不能直接修改删除标记，请使用删除操作', DELETED_FIELD)
      }
      const checked = validateFields(op.kind, op.fields, op.create ? 'create' : 'patch')
      if (!checked.ok) {
        const { field, message } = checked.issue
        return refuse('invalid_field', `${field}：${message}`, field)
      }
    }
    const existing = await tx.getRecord(op.id)
    if (!existing && (op.type === 'delete' || !op.create)) {
      return refuse('unknown_record', '服务器上没有这条记录（可能尚未上传它的新建操作）')
    }
    if (existing && existing.kind !== op.kind) {
      return refuse('kind_mismatch', `记录类型不符：服务器上是 ${existing.kind}，操作是 ${op.kind}`)
    }
    const gridId = op.type === 'put' ? op.fields.gridId : undefined
    if (typeof gridId === 'string' && !(await tx.scopeOfGrid(gridId))) {
      return refuse('invalid_field', `gridId：未知的网格 ${gridId}`, 'gridId')
    }

    const { state, changed } = applyPatch(existing ?? emptyState(), patchOfOp(op), op.stamp)
    let seq = existing?.seq ?? 0
    if (!existing || changed.length > 0) {
      seq = await tx.nextSeq()
      const grid = state.fields.gridId
      const scope =
        existing && existing.scope.gridId === grid
          ? existing.scope
          : typeof grid === 'string'
            ? await tx.scopeOfGrid(grid)
            : null
      if (!scope) throw new Error(`record ${op.id} has no known grid`)
      await tx.saveRecord({
        id: op.id,
        kind: op.kind,
        fields: state.fields,
        stamps: state.stamps,
        deleted: isDeleted(state),
        seq,
        scope,
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
      })
    }

    const writes: StoredWrite[] = writesOfOp(op).map((w) => ({
      ...w,
      deviceId,
      userId: user.id,
      serverSeq: seq,
      receivedAt: now,
    }))
    await tx.insertWrites(op.id, writes)
    const history = await tx.listWrites(op.id)
    const byStamp = new Map(history.map((w) => [`${w.field}\u0000${w.stamp}`, w]))
    const conflicts = findConflicts(history).map((conflict) => {
      const loser = byStamp.get(`${conflict.field}\u0000${conflict.loser.stamp}`)
      if (!loser) throw new Error('conflict loser missing from the history')
      return {
        field: conflict.field,
        type: conflict.type,
        winnerStamp: conflict.winner.stamp,
        winnerValue: conflict.winner.value,
        loserStamp: loser.stamp,
        loserValue: loser.value,
        loserDeviceId: loser.deviceId,
        loserUserId: loser.userId,
      }
    })
    await tx.replaceConflicts(op.id, conflicts, now)

    const result: OpResult = { seq: op.seq, status: 'applied' }
    await tx.saveAppliedResult(deviceId, op.seq, op.id, result, now)
    return { result, clock: nextClock }
  }

  return {
    push(user, deviceId, ops, now) {
      return store.transaction(async (tx) => {
        await tx.touchDevice(deviceId, user.id, now)
        let c = await currentClock(tx)
        const results: OpResult[] = []
        for (const op of ops) {
          const previous = await tx.getAppliedResult(deviceId, op.seq)
          if (previous) {
            results.push(previous)
            continue
          }
          const outcome: Outcome = await applyOp(tx, c, user, deviceId, op, now)
          if (outcome.clock) c = outcome.clock
          results.push(outcome.result)
        }
        c = atNow(c, now)
        const stamp = formatStamp(c)
        await tx.saveClock(stamp)
        clock = c
        return { protocol: PROTOCOL_VERSION, clock: stamp, results }
      })
    },

    pull(user, deviceId, since, limit, now) {
      // Every user sees every record for now; the scope filter (next issue) goes into listRecordsSince.
      return store.transaction(async (tx) => {
        await tx.touchDevice(deviceId, user.id, now)
        const rows = await tx.listRecordsSince(since, limit + 1)
        const page = rows.slice(0, limit)
        const c = atNow(await currentClock(tx), now)
        clock = c
        return {
          protocol: PROTOCOL_VERSION,
          clock: formatStamp(c),
          records: page.map(toServerRecord),
          cursor: page.at(-1)?.seq ?? since,
          more: rows.length > limit,
        }
      })
    },

    async getRecord(kind, id) {
      const record = await store.getRecord(id)
      return record && record.kind === kind ? toServerRecord(record) : null
    },

    listConflicts(recordId) {
      return store.listConflicts(recordId)
    },
  }
}
