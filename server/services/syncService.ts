import { DEFAULT_DEADLINES, type DeadlineConfig } from '#shared/domain/deadlines.ts'
import { canOnRecords, canUnmask, coversScope, readableKinds } from '#shared/domain/permissions.ts'
import type { RecordAction } from '#shared/domain/permissions.ts'
import { maskFieldsFor, sensitiveTypeOf } from '#shared/domain/privacy.ts'
import type { UnmaskResponse, UserRole } from '#shared/schemas/api.ts'
import { validateFields } from '#shared/schemas/records.ts'
import type { Timeline } from '#shared/schemas/timeline.ts'
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
  Scope,
  ServerRecord,
} from '#shared/sync/protocol.ts'
import { badRequest, forbidden, notFound } from '../http/HttpError.ts'
import type {
  ConflictRow,
  DeviceRow,
  StoreOps,
  StoredRecord,
  StoredWrite,
  SyncStore,
  User,
} from '../store/SyncStore.ts'
import { batchedOps } from '../store/batchedOps.ts'
import { judgeIncidentOp } from './incidentWorkflow.ts'
import { timelineOf } from './recordTimeline.ts'
import { scopeKeyOf } from './scopeKey.ts'

export const SERVER_NODE = 'server'

export interface SyncService {
  push(user: User, deviceId: string, ops: readonly Op[], now: number): Promise<PushResponse>
  pull(user: User, deviceId: string, since: number, limit: number, now: number): Promise<PullResponse>
  /** The record as `user` may see it (masked); 403 for a kind the role cannot read, 404 when missing or out of scope. */
  getRecord(user: User, kind: RecordKind, id: string): Promise<ServerRecord>
  /** Every applied write of the record, one entry per op in stamp order, masked; same refusals as getRecord. */
  timeline(user: User, id: string): Promise<Timeline>
  /** The record's conflict rows, masked; same refusals as getRecord. */
  listConflicts(user: User, recordId: string): Promise<ConflictRow[]>
  /** A sensitive field in clear, written to the audit log (who, which device, which record and field, when). */
  unmask(
    user: User,
    deviceId: string,
    kind: RecordKind,
    id: string,
    field: string,
    now: number,
  ): Promise<UnmaskResponse>
}

export interface SyncServiceOptions {
  store: SyncStore
  maxClockDriftMs: number
  /** Deadline days by urgency (the dispatch limit the server enforces); the shared defaults when absent. */
  deadlines?: DeadlineConfig
}

type Outcome = { result: OpResult; clock?: Clock }

/** The record as it leaves the server for `role`: sensitive fields it does not see in clear are masked. */
export function toServerRecord(record: StoredRecord, role: UserRole): ServerRecord {
  return {
    kind: record.kind,
    id: record.id,
    fields: maskFieldsFor(role, record.kind, record.fields),
    stamps: record.stamps,
    seq: record.seq,
    scope: record.scope,
  }
}

export const ROLE_NAMES: Record<UserRole, string> = {
  worker: '网格员',
  leader: '网格长',
  handler: '责任单位',
  admin: '管理员',
}
const ACTION_NAMES: Record<Exclude<RecordAction, 'read'>, string> = {
  create: '新建',
  update: '修改',
  delete: '删除',
}
export const KIND_NAMES: Record<RecordKind, string> = {
  household: '住户',
  place: '场所',
  incident: '事件',
  person: '家庭成员',
  visit: '走访',
  track: '巡查轨迹',
  photo: '照片',
}

const scopePath = (scope: Scope): string[] => [scope.gridId, scope.villageId, scope.townId, scope.countyId]

/** Whether an admin asked to wipe this device and it has not confirmed yet: then every answer says `wipe: true`. */
async function wipePending(tx: StoreOps, deviceId: string): Promise<boolean> {
  return isWipePending(await tx.getDevice(deviceId))
}

const isWipePending = (device: DeviceRow | null): boolean =>
  device !== null && device.wipeRequestedAt !== null && device.wipedAt === null

/**
 * How stale a device's "last seen" may get before a pull records it again. Why: a pull that writes nothing is a
 * read-only transaction, which costs no disk sync; with synchronous=FULL every write transaction waits for one
 * (about 4 ms on a VM disk, with the event loop blocked), and phones pull far more often than they push.
 */
export const LAST_SEEN_RESOLUTION_MS = 60_000

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
 * A refusal of `op`. Module-level, as outOfScope: a closure made per op costs a defineProperty each under tsx, which
 * keeps function names (the server runs through tsx).
 */
function refuse(op: Op, code: RefusalCode, reason: string, field?: string): Outcome {
  return {
    result: { seq: op.seq, status: 'refused', code, reason, ...(field === undefined ? {} : { field }) },
  }
}

async function outOfScope(tx: StoreOps, op: Op, gridId: string): Promise<Outcome> {
  const grid = await tx.getArea(gridId)
  const name = grid ? `${grid.name}（${gridId}）` : gridId
  return refuse(op, 'out_of_scope', `网格 ${name} 不在你的负责范围内，不能修改其中的记录`, 'gridId')
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
 * - Incidents follow the closed loop (incidentWorkflow.ts): a status change is compare-and-set on the status stamp
 *   and must be a step the role may take; step fields go with their step. Refused per op like any rule.
 * - Scope: an op touching a record outside the user's areas (where it is, or where a patch would move it) is refused
 *   `out_of_scope`, an action the role lacks `forbidden`; the rest of the batch still applies. A pull brings only the
 *   records the user's areas cover, of kinds the role reads, masked for the role, with the scopeKey that names what
 *   the user may see (role, areas, area tree version).
 */
export function createSyncService({
  store,
  maxClockDriftMs,
  deadlines = DEFAULT_DEADLINES,
}: SyncServiceOptions): SyncService {
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
    const drift = stampDrift(op.stamp, now)
    if (drift > maxClockDriftMs) {
      return refuse(
        op,
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
      return refuse(op, 'clock_skew', `时间戳无效：${error.message}`)
    }

    if (op.type === 'put') {
      if (DELETED_FIELD in op.fields) {
        return refuse(op, 'invalid_field', '不能直接修改删除标记，请使用删除操作', DELETED_FIELD)
      }
      const checked = validateFields(op.kind, op.fields, op.create ? 'create' : 'patch')
      if (!checked.ok) {
        const { field, message } = checked.issue
        return refuse(op, 'invalid_field', `${field}：${message}`, field)
      }
    }
    const existing = await tx.getRecord(op.id)
    if (existing && !coversScope(user.areaIds, existing.scope))
      return outOfScope(tx, op, existing.scope.gridId)
    if (!existing && (op.type === 'delete' || !op.create)) {
      return refuse(op, 'unknown_record', '服务器上没有这条记录（可能尚未上传它的新建操作）')
    }
    if (existing && existing.kind !== op.kind) {
      return refuse(op, 'kind_mismatch', `记录类型不符：服务器上是 ${existing.kind}，操作是 ${op.kind}`)
    }
    const action: RecordAction = op.type === 'delete' ? 'delete' : existing ? 'update' : 'create'
    if (!canOnRecords(user.role, action, op.kind)) {
      return refuse(
        op,
        'forbidden',
        `${ROLE_NAMES[user.role]}不能${ACTION_NAMES[action]}${KIND_NAMES[op.kind]}记录`,
      )
    }
    // A visit names its visitor (走访人): only the user who records it, so the dashboard's visits per worker hold.
    if (op.type === 'put' && op.kind === 'visit' && typeof op.fields.visitorId === 'string') {
      if (op.fields.visitorId !== user.id)
        return refuse(op, 'forbidden', '走访人只能是记录走访的本人', 'visitorId')
    }
    const gridId = op.type === 'put' ? op.fields.gridId : undefined
    let targetScope: Scope | null = null
    if (typeof gridId === 'string') {
      targetScope = await tx.scopeOfGrid(gridId)
      if (!targetScope) return refuse(op, 'invalid_field', `gridId：未知的网格 ${gridId}`, 'gridId')
      if (!coversScope(user.areaIds, targetScope)) return outOfScope(tx, op, gridId)
    }

    if (op.type === 'put' && op.kind === 'incident') {
      const scope = targetScope ?? existing?.scope
      if (!scope) throw new Error(`incident ${op.id} has no known grid`)
      const refusal = await judgeIncidentOp(tx, user, op, existing, scope, deadlines)
      if (refusal) return refuse(op, refusal.code, refusal.reason, refusal.field)
    }

    const { state, changed } = applyPatch(existing ?? emptyState(), patchOfOp(op), op.stamp)
    let seq = existing?.seq ?? 0
    if (!existing || changed.length > 0) {
      seq = await tx.nextSeq()
      const grid = state.fields.gridId
      const scope =
        existing && existing.scope.gridId === grid
          ? existing.scope
          : targetScope && targetScope.gridId === grid
            ? targetScope
            : typeof grid === 'string'
              ? await tx.scopeOfGrid(grid)
              : null
      if (!scope) throw new Error(`record ${op.id} has no known grid`)
      if (existing && existing.scope.gridId !== scope.gridId) {
        await tx.insertExit({ seq, recordId: op.id, kind: op.kind, scope: existing.scope })
      }
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

    // Built property by property: an object spread here cost 30 times as much (one per field of every op pushed).
    const writes: StoredWrite[] = writesOfOp(op).map((w) => {
      const write: StoredWrite = {
        field: w.field,
        stamp: w.stamp,
        base: w.base,
        value: w.value,
        deviceId,
        userId: user.id,
        serverSeq: seq,
        receivedAt: now,
      }
      if (w.context !== undefined) write.context = w.context
      return write
    })
    await tx.insertWrites(op.id, writes)
    // A record's first op makes the only write of each of its fields: it has no conflicts to recompute.
    if (existing) {
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
    }

    const result: OpResult = { seq: op.seq, status: 'applied' }
    await tx.saveAppliedResult(deviceId, op.seq, op.id, result, now)
    return { result, clock: nextClock }
  }

  return {
    push(user, deviceId, ops, now) {
      return store.transaction(async (storeTx) => {
        // The batch's writes go to the store in a few multi-row statements (see batchedOps.ts).
        const { ops: tx, prefetch, flush } = batchedOps(storeTx)
        await tx.touchDevice(deviceId, user.id, now)
        await prefetch(deviceId, ops)
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
        await flush()
        c = atNow(c, now)
        const stamp = formatStamp(c)
        await tx.saveClock(stamp)
        clock = c
        const wipe = await wipePending(tx, deviceId)
        return { protocol: PROTOCOL_VERSION, clock: stamp, results, ...(wipe ? { wipe } : {}) }
      })
    },

    async pull(user, deviceId, since, limit, now) {
      // Read on one snapshot that waits for no writer (see readTransaction); the rare "last seen" write after it.
      const { device, response } = await store.readTransaction(async (tx) => {
        const device = await tx.getDevice(deviceId)
        const filter = { areaIds: user.areaIds, kinds: readableKinds(user.role) }
        const rows = await tx.listRecordsSince(since, limit + 1, filter)
        const page = rows.slice(0, limit)
        const more = rows.length > limit
        const lastRecordSeq = page.at(-1)?.seq ?? since
        // Exits within the span this page covers; the last page covers everything up to now.
        const exits = await tx.listExitsSince(since, more ? lastRecordSeq : null, filter)
        const cursor = Math.max(lastRecordSeq, exits.at(-1)?.seq ?? since)
        const c = atNow(await currentClock(tx), now)
        clock = c
        const wipe = isWipePending(device)
        const response: PullResponse = {
          protocol: PROTOCOL_VERSION,
          clock: formatStamp(c),
          records: page.map((r) => toServerRecord(r, user.role)),
          cursor,
          more,
          ...(exits.length > 0 ? { removed: [...new Set(exits.map((x) => x.recordId))] } : {}),
          scopeKey: scopeKeyOf(user.role, user.areaIds, await tx.areasVersion()),
          ...(wipe ? { wipe } : {}),
        }
        return { device, response }
      })
      if (!device || device.userId !== user.id || now - device.lastSeenAt >= LAST_SEEN_RESOLUTION_MS) {
        await store.transaction((tx) => tx.touchDevice(deviceId, user.id, now))
      }
      return response
    },

    async getRecord(user, kind, id) {
      return toServerRecord(await visibleRecord(store, user, kind, id), user.role)
    },

    async timeline(user, id) {
      const found = await store.getRecord(id)
      const record = await visibleRecord(store, user, found?.kind ?? 'incident', id)
      const writes = await store.listWrites(id)
      const names = new Map<string, string>()
      for (const userId of new Set(writes.map((w) => w.userId))) {
        const author = await store.getUser(userId)
        if (author) names.set(userId, author.displayName)
      }
      return { id, kind: record.kind, entries: timelineOf(record.kind, writes, user.role, names) }
    },

    async listConflicts(user, recordId) {
      const found = await store.getRecord(recordId)
      const record = await visibleRecord(store, user, found?.kind ?? 'incident', recordId)
      const mask = (field: string, value: unknown) =>
        maskFieldsFor(user.role, record.kind, { [field]: value })[field]
      return (await store.listConflicts(recordId)).map((c) => ({
        ...c,
        winnerValue: mask(c.field, c.winnerValue),
        loserValue: mask(c.field, c.loserValue),
      }))
    },

    async unmask(user, deviceId, kind, id, field, now) {
      if (!canUnmask(user.role)) throw forbidden(`${ROLE_NAMES[user.role]}不能查看完整的敏感信息`)
      if (!sensitiveTypeOf(kind, field)) {
        throw badRequest('field', `${field} 不是${KIND_NAMES[kind]}记录的敏感字段`)
      }
      const record = await visibleRecord(store, user, kind, id)
      const value = record.fields[field] ?? null
      await store.insertAudit({
        at: now,
        userId: user.id,
        deviceId,
        action: 'unmask',
        recordKind: kind,
        recordId: id,
        field,
        detail: null,
        areaIds: scopePath(record.scope),
      })
      return { field, value }
    },
  }
}

/** The record if `user` may read it: 403 for a kind the role never reads, 404 when missing or out of scope. */
async function visibleRecord(
  store: SyncStore,
  user: User,
  kind: RecordKind,
  id: string,
): Promise<StoredRecord> {
  if (!canOnRecords(user.role, 'read', kind)) {
    throw forbidden(`${ROLE_NAMES[user.role]}不能查看${KIND_NAMES[kind]}记录`)
  }
  const record = await store.getRecord(id)
  if (!record || record.kind !== kind || !coversScope(user.areaIds, record.scope)) {
    throw notFound('没有这条记录，或它不在你的负责范围内')
  }
  return record
}
