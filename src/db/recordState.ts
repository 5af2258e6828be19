import { maxStamp, stampMs } from '#shared/sync/hlc.ts'
import { DELETED_FIELD, emptyState } from '#shared/sync/merge.ts'
import { receiveRemote, releaseHeld as releaseReplica, type Replica } from '#shared/sync/replica.ts'
import type { RecordState } from '#shared/sync/merge.ts'
import type { Op } from '#shared/sync/protocol.ts'
import type { LocalRecord } from './GridPatrolDb.ts'
import { parentIdOf } from './searchText.ts'

export function stateOf(record: LocalRecord | undefined): RecordState {
  return record ? { fields: record.fields, stamps: record.stamps } : emptyState()
}

/**
 * The record with its derived columns (deleted, gridId, updatedAt, parentId) recomputed from its fields and stamps.
 * Every write (local or pulled) goes through here, so the indexes never lag behind the fields.
 * Why `parentId` is left out when empty: each IndexedDB index entry is a write of its own, and most records
 * (households, places, incidents) have no parent; a key path that is missing makes no entry.
 */
export function recordWithState(record: LocalRecord, state: RecordState): LocalRecord {
  let newest: string | null = null
  for (const stamp of Object.values(state.stamps)) newest = maxStamp(newest, stamp)
  const gridId = state.fields['gridId']
  const deleted = state.fields[DELETED_FIELD] === true ? 1 : 0
  // Columns of older versions (dupKey until v6, an empty parentId) are not carried over.
  const { dupKey: _dupKey, parentId: _parentId, ...kept } = record
  const parentId = parentIdOf(record.kind, state.fields)
  return {
    ...kept,
    fields: state.fields,
    stamps: state.stamps,
    deleted,
    gridId: typeof gridId === 'string' ? gridId : record.gridId,
    updatedAt: newest ? stampMs(newest) : 0,
    ...(parentId ? { parentId } : {}),
  }
}

/** The fields an op writes. */
export function opFieldNames(op: Op): string[] {
  return op.type === 'delete' ? [DELETED_FIELD] : Object.keys(op.fields)
}

/** Per record id, the fields written by the given (unacknowledged) ops. */
export function pendingFieldsById(ops: Iterable<Op>): Map<string, Set<string>> {
  const byId = new Map<string, Set<string>>()
  for (const op of ops) {
    let fields = byId.get(op.id)
    if (!fields) byId.set(op.id, (fields = new Set()))
    for (const name of opFieldNames(op)) fields.add(name)
  }
  return byId
}

/** The record with a pulled state merged in; writes to `pending` fields are held back (not shown yet). */
export function receivePulled(
  record: LocalRecord,
  remote: RecordState,
  pending: ReadonlySet<string>,
): LocalRecord {
  return withReplica(record, receiveRemote(replicaOf(record), remote, pending))
}

/** The record with its held-back writes merged in for every field no longer in `stillPending`. */
export function releaseHeld(record: LocalRecord, stillPending: ReadonlySet<string>): LocalRecord {
  const before = replicaOf(record)
  const after = releaseReplica(before, stillPending)
  return after === before ? record : withReplica(record, after)
}

function withReplica(record: LocalRecord, replica: Replica): LocalRecord {
  const { held: _held, ...withoutHeld } = record
  const next = recordWithState(withoutHeld, { fields: replica.fields, stamps: replica.stamps })
  return replica.held ? { ...next, held: replica.held } : next
}

function replicaOf(record: LocalRecord): Replica {
  const replica: Replica = { fields: record.fields, stamps: record.stamps }
  if (record.held) replica.held = record.held
  return replica
}
