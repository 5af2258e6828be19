import { coversScope, readableKinds } from '#shared/domain/permissions.ts'
import { maskFieldsFor } from '#shared/domain/privacy.ts'
import { canReviewConflicts } from '#shared/schemas/conflictQueue.ts'
import type {
  ConflictQueue,
  ConflictQueueItem,
  ConflictQueueQuery,
  ConflictResolution,
  ConflictSide,
  ResolveConflictRequest,
} from '#shared/schemas/conflictQueue.ts'
import type { RecordKind } from '#shared/schemas/records.ts'
import { stampMs } from '#shared/sync/hlc.ts'
import { DELETED_FIELD, sameValue } from '#shared/sync/merge.ts'
import { forbidden, notFound } from '../http/HttpError.ts'
import type {
  ConflictResolutionRow,
  OpenConflict,
  StoredRecord,
  StoredWrite,
  SyncStore,
  User,
} from '../store/SyncStore.ts'
import { ROLE_NAMES } from './syncService.ts'

export interface ConflictService {
  /** The open conflicts in the caller's scope, newest first, masked; 403 unless a leader or an admin. */
  queue(user: User, query: ConflictQueueQuery): Promise<ConflictQueue>
  /**
   * Record a decision about one losing write; idempotent (a second call, whatever its decision, answers the first
   * one and changes nothing). 403 unless a leader or an admin; 404 when the record is out of scope or the write is
   * no conflict.
   */
  resolve(user: User, request: ResolveConflictRequest, now: number): Promise<ConflictResolution>
}

/** The field that names a record of each kind in the queue (none for kinds nobody names). */
const LABEL_FIELDS: Partial<Record<RecordKind, readonly string[]>> = {
  household: ['address', 'houseNumber'],
  place: ['name'],
  incident: ['description'],
  person: ['name'],
}
const LABEL_MAX = 60

/** A record's label for the queue, masked like the record itself. */
export function labelOf(record: StoredRecord, role: User['role']): string | null {
  const names = LABEL_FIELDS[record.kind]
  if (!names) return null
  const fields = maskFieldsFor(role, record.kind, record.fields)
  const parts = names
    .map((name) => fields[name])
    .filter((v): v is string => typeof v === 'string' && v !== '')
  if (parts.length === 0) return null
  const label = parts.join(' ')
  return label.length > LABEL_MAX ? `${label.slice(0, LABEL_MAX - 1)}…` : label
}

/**
 * The leaders' conflict review queue over the store port (see #shared/schemas/conflictQueue.ts).
 *
 * Invariants:
 * - Scope and masking as everywhere: only records the caller's areas cover, values masked for the role.
 * - A decision is kept per losing write and never changed; it survives every recomputation of the conflict rows.
 * - A 'restored' decision may arrive after the restoring edit has synced: by then the conflict row is gone (the
 *   winner now holds the loser's value), so such a decision is accepted when the field holds the loser's value.
 */
export function createConflictService({ store }: { store: SyncStore }): ConflictService {
  function checkRole(user: User): void {
    if (!canReviewConflicts(user.role)) throw forbidden(`${ROLE_NAMES[user.role]}不能处理同步冲突`)
  }

  async function namesOf(userIds: Iterable<string>): Promise<Map<string, string>> {
    const names = new Map<string, string>()
    for (const id of new Set(userIds)) {
      const account = await store.getUser(id)
      if (account) names.set(id, account.displayName)
    }
    return names
  }

  function itemOf(
    { conflict, record }: OpenConflict,
    winner: StoredWrite | null,
    role: User['role'],
    names: ReadonlyMap<string, string>,
  ): ConflictQueueItem {
    const mask = (value: unknown) =>
      maskFieldsFor(role, record.kind, { [conflict.field]: value })[conflict.field]
    const side = (
      stamp: string,
      value: unknown,
      userId: string | null,
      deviceId: string | null,
    ): ConflictSide => ({
      stamp,
      value,
      userId,
      userName: userId === null ? null : (names.get(userId) ?? null),
      deviceId,
      at: stampMs(stamp),
    })
    return {
      id: conflict.id,
      recordId: record.id,
      kind: record.kind,
      label: labelOf(record, role),
      deleted: record.deleted,
      field: conflict.field,
      type: conflict.type,
      kept: side(
        conflict.winnerStamp,
        conflict.type === 'delete' ? true : mask(conflict.winnerValue),
        winner?.userId ?? null,
        winner?.deviceId ?? null,
      ),
      lost: side(
        conflict.loserStamp,
        mask(conflict.loserValue),
        conflict.loserUserId,
        conflict.loserDeviceId,
      ),
      createdAt: conflict.createdAt,
    }
  }

  async function resolutionOf(row: ConflictResolutionRow): Promise<ConflictResolution> {
    const names = await namesOf([row.resolvedBy])
    return { ...row, resolvedByName: names.get(row.resolvedBy) ?? null }
  }

  return {
    async queue(user, { limit, before }) {
      checkRole(user)
      const filter = { areaIds: user.areaIds, kinds: readableKinds(user.role) }
      const rows = await store.listOpenConflicts({
        ...filter,
        limit: limit + 1,
        ...(before ? { before } : {}),
      })
      const page = rows.slice(0, limit)
      const winners = await Promise.all(
        page.map(({ conflict, record }) =>
          store.getWrite(
            record.id,
            conflict.type === 'delete' ? DELETED_FIELD : conflict.field,
            conflict.winnerStamp,
          ),
        ),
      )
      const names = await namesOf([
        ...page.map((r) => r.conflict.loserUserId),
        ...winners.flatMap((w) => (w ? [w.userId] : [])),
      ])
      const conflicts = page.map((row, i) => itemOf(row, winners[i] ?? null, user.role, names))
      return {
        conflicts,
        total: await store.countOpenConflicts(filter),
        next: rows.length > limit ? (page.at(-1)?.conflict.id ?? null) : null,
      }
    },

    async resolve(user, { recordId, field, loserStamp, decision }, now) {
      checkRole(user)
      const kept = await store.transaction(async (tx) => {
        const record = await tx.getRecord(recordId)
        if (!record || !coversScope(user.areaIds, record.scope)) {
          throw notFound('没有这条记录，或它不在你的负责范围内')
        }
        const previous = await tx.getConflictResolution(recordId, field, loserStamp)
        if (previous) return previous
        const rows = (await tx.listConflicts(recordId)).filter(
          (c) => c.field === field && c.loserStamp === loserStamp,
        )
        if (rows.length === 0) {
          const loser = await tx.getWrite(recordId, field, loserStamp)
          const settled =
            decision === 'restored' &&
            loser !== null &&
            record.stamps[field] !== loserStamp &&
            sameValue(record.fields[field], loser.value)
          if (!settled) throw notFound('没有这个冲突（可能已被处理，或记录已更新）')
        }
        return tx.resolveConflict({
          recordId,
          field,
          loserStamp,
          decision,
          resolvedBy: user.id,
          resolvedAt: now,
        })
      })
      // Outside the transaction: it holds the store's one connection until it ends.
      return resolutionOf(kept)
    },
  }
}
