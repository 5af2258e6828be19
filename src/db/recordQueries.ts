/**
 * Read-side queries that stay fast with 50,000 households on the phone. Search and paged lists ask the in-memory
 * SearchIndex for ids (newest first) and read just those records; members of a household, visits of a target and
 * photos of an owner use [kind+parentId]; the duplicate check asks the SearchIndex too. Tombstones are never returned.
 */
import { Dexie } from 'dexie'
import type { RecordKind } from '#shared/schemas/records.ts'
import type { GridPatrolDb, LocalRecord } from './GridPatrolDb.ts'
import type { IndexFilters } from './SearchIndex.ts'
import { dupKeyOf, normalizedAddress, queryTerms } from './searchText.ts'

export interface SearchOptions extends IndexFilters {
  limit?: number
  offset?: number
  /** Read each record's `pending` from the outbox (withQueuedState), in the same round trip as the records. */
  queuedState?: boolean
}

/**
 * The live records with these ids, in that order (one that was deleted meanwhile is left out). With `queuedState`,
 * their `pending` is read from the outbox in the same round trip (see withQueuedState).
 */
async function recordsOf(db: GridPatrolDb, ids: string[], queuedState = false): Promise<LocalRecord[]> {
  const [rows, queued] = await Promise.all([
    db.records.bulkGet(ids),
    queuedState ? queuedAmong(db, ids) : null,
  ])
  const live = rows.filter((row): row is LocalRecord => row !== undefined && !row.deleted)
  return queued ? live.map((record) => withPending(record, queued)) : live
}

/** The ids among `ids` that have ops in the outbox (one lookup on its `id` index). */
async function queuedAmong(db: GridPatrolDb, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set()
  return new Set((await db.outbox.where('id').anyOf(ids).keys()).map(String))
}

function withPending(record: LocalRecord, queued: ReadonlySet<string>): LocalRecord {
  const pending = queued.has(record.id) ? 1 : 0
  return record.pending === pending ? record : { ...record, pending }
}

/**
 * The records with `pending` read from the outbox: 1 for those with ops queued. The stored flag is as of the
 * record's last write, and an acknowledged push does not rewrite the records it acknowledges (GridPatrolDb.ts), so
 * what shows a record as unsynced reads it through here (or through the `queuedState` option of the queries below).
 */
export async function withQueuedState(db: GridPatrolDb, records: LocalRecord[]): Promise<LocalRecord[]> {
  const queued = await queuedAmong(
    db,
    records.map((record) => record.id),
  )
  return records.map((record) => withPending(record, queued))
}

/** The live (not deleted) records of a kind, on the [kind+deleted+updatedAt] index. */
export function liveRange(db: GridPatrolDb, kind: RecordKind) {
  return db.records
    .where('[kind+deleted+updatedAt]')
    .between([kind, 0, Dexie.minKey], [kind, 0, Dexie.maxKey], true, true)
}

/** A page of live records of a kind, newest first (for virtual scrolling). */
export async function listPage(
  db: GridPatrolDb,
  kind: RecordKind,
  offset: number,
  limit: number,
  queuedState = false,
): Promise<LocalRecord[]> {
  return recordsOf(db, await db.searchIndex.page(kind, offset, limit), queuedState)
}

export function countLive(db: GridPatrolDb, kind: RecordKind): Promise<number> {
  return liveRange(db, kind).count()
}

/** Live records of a kind whose parent (householdId / targetId / ownerId) is `parentId`, newest first. */
export async function childrenOf(
  db: GridPatrolDb,
  kind: RecordKind,
  parentId: string,
): Promise<LocalRecord[]> {
  const rows = await db.records.where('[kind+parentId]').equals([kind, parentId]).toArray()
  return rows.filter((row) => !row.deleted).sort((a, b) => b.updatedAt - a.updatedAt)
}

/**
 * Records of a kind matching a query (name, address, ID-number prefix, phone suffix: every term must occur) and the
 * filters, newest first; households are also found by their members' names, ID-number prefixes and phone suffixes.
 * An empty query lists the kind (filtered). Results are complete, not sampled.
 */
export async function searchRecords(
  db: GridPatrolDb,
  kind: RecordKind,
  query: string,
  options: SearchOptions = {},
): Promise<LocalRecord[]> {
  const { offset = 0, limit = 50, gridId, tag, status, queuedState = false } = options
  const ids = await db.searchIndex.search(kind, queryTerms(query), { gridId, tag, status }, offset, limit)
  return recordsOf(db, ids, queuedState)
}

/**
 * Likely duplicates of a record about to be saved: members with the same ID number, households with the same
 * address (and house number, when both have one). `exceptId` leaves out the record being edited.
 */
export async function findDuplicates(
  db: GridPatrolDb,
  kind: RecordKind,
  fields: Record<string, unknown>,
  exceptId?: string,
): Promise<LocalRecord[]> {
  const key = dupKeyOf(kind, fields)
  if (key === undefined) return []
  // Households at the same address are duplicates unless both have house numbers and they differ.
  const houseNumber = normalizedAddress(fields['houseNumber'])
  const sameHouse = (record: LocalRecord) => {
    const theirs = normalizedAddress(record.fields['houseNumber'])
    return kind !== 'household' || !houseNumber || !theirs || theirs === houseNumber
  }
  // One exact lookup in memory (a form calls this before every save), then the few records it names.
  const candidates = await recordsOf(db, await db.searchIndex.sharingDupKey(kind, key))
  return candidates.filter((record) => record.id !== exceptId && sameHouse(record))
}
