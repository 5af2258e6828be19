/**
 * Read-side queries that stay fast with 50,000 households on the phone: every lookup goes through an index
 * ([kind+deleted+updatedAt] for paged lists, the multiEntry `searchTokens` for search, [kind+parentId] for the
 * members of a household, the visits of a target and the photos of an owner). Tombstones are never returned.
 */
import { Dexie } from 'dexie'
import type { RecordKind } from '#shared/schemas/records.ts'
import type { GridPatrolDb, LocalRecord } from './GridPatrolDb.ts'
import { addressKey, lookupKeys, matchesQuery, normalizedAddress, queryTerms } from './searchTokens.ts'
import type { Lookup } from './searchTokens.ts'

export interface SearchOptions {
  limit?: number
  offset?: number
  gridId?: string
  /** A care tag (`fields.tags` contains it). */
  tag?: string
  /** An incident status (`fields.status`). */
  status?: string
  /** Candidates above which the newest-first walk is used (default SCAN_ABOVE; tests lower it). */
  scanAbove?: number
}

/** At most this many keys are counted to find the rarest (a long query has many 3-character windows). */
const MAX_KEYS_COUNTED = 8
/**
 * Above this many candidates a search walks the newest-first list instead and stops at the page's end: a common key
 * (a village name everybody's address holds, a frequent surname) would otherwise load most of the records.
 */
export const SCAN_ABOVE = 1500

function tokenRange(db: GridPatrolDb, lookup: Lookup) {
  const where = db.records.where('searchTokens')
  return lookup.prefix ? where.startsWith(lookup.key) : where.equals(lookup.key)
}

/** The rarest of the lookup keys and how many index entries it has; null when there is none. */
async function rarest(
  db: GridPatrolDb,
  lookups: Lookup[],
): Promise<{ lookup: Lookup; count: number } | null> {
  let best: { lookup: Lookup; count: number } | null = null
  for (const lookup of lookups.slice(0, MAX_KEYS_COUNTED)) {
    const count = await tokenRange(db, lookup).count()
    if (best === null || count < best.count) best = { lookup, count }
    if (count === 0) break
  }
  return best
}

/** The records holding a search key, each once. */
function byToken(db: GridPatrolDb, lookup: Lookup): Promise<LocalRecord[]> {
  return tokenRange(db, lookup).distinct().toArray()
}

/** The live (not deleted) records of a kind, on the [kind+deleted+updatedAt] index. */
export function liveRange(db: GridPatrolDb, kind: RecordKind) {
  return db.records
    .where('[kind+deleted+updatedAt]')
    .between([kind, 0, Dexie.minKey], [kind, 0, Dexie.maxKey], true, true)
}

/** A page of live records of a kind, newest first (for virtual scrolling). */
export function listPage(
  db: GridPatrolDb,
  kind: RecordKind,
  offset: number,
  limit: number,
): Promise<LocalRecord[]> {
  return liveRange(db, kind).reverse().offset(offset).limit(limit).toArray()
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

function passesFilters(record: LocalRecord, options: SearchOptions): boolean {
  if (record.deleted) return false
  if (options.gridId !== undefined && record.gridId !== options.gridId) return false
  if (options.status !== undefined && record.fields['status'] !== options.status) return false
  if (options.tag !== undefined) {
    const tags = record.fields['tags']
    if (!Array.isArray(tags) || !tags.includes(options.tag)) return false
  }
  return true
}

/**
 * Records of a kind matching a query (name, address, ID-number prefix, phone suffix; every term must match) and the
 * filters, newest first; households are also found by their members' names, ID-number prefixes and phone suffixes.
 * An empty query lists the kind (filtered). Results are complete, not sampled.
 */
export async function searchRecords(
  db: GridPatrolDb,
  kind: RecordKind,
  query: string,
  options: SearchOptions = {},
): Promise<LocalRecord[]> {
  const offset = options.offset ?? 0
  const limit = options.limit ?? 50
  const terms = queryTerms(query)
  const filtered = options.gridId !== undefined || options.tag !== undefined || options.status !== undefined
  const best = await rarest(db, lookupKeys(kind, terms))
  const scanAbove = options.scanAbove ?? SCAN_ABOVE
  if (best === null || best.count > scanAbove) {
    if (!filtered && best === null) return listPage(db, kind, offset, limit)
    // No key or a common one: walk newest first and stop once the page is full (households are then not found
    // by their members, whose keys, ID prefixes and phone suffixes, are rare and take the indexed path).
    return liveRange(db, kind)
      .reverse()
      .filter((record) => passesFilters(record, options) && matchesQuery(kind, record.fields, terms))
      .offset(offset)
      .limit(limit)
      .toArray()
  }
  const candidates = await byToken(db, best.lookup)
  const found = new Map<string, LocalRecord>()
  for (const record of candidates) {
    if (record.kind === kind && matchesQuery(kind, record.fields, terms)) found.set(record.id, record)
  }
  // A household is also found by its members (an ID-number prefix, a member's name or phone suffix).
  const memberKey = kind === 'household' ? await rarest(db, lookupKeys('person', terms)) : null
  if (memberKey && memberKey.count > 0 && memberKey.count <= scanAbove) {
    const members = await byToken(db, memberKey.lookup)
    const householdIds = new Set<string>()
    for (const member of members) {
      if (!member.deleted && member.parentId && matchesQuery('person', member.fields, terms)) {
        if (!found.has(member.parentId)) householdIds.add(member.parentId)
      }
    }
    for (const record of await db.records.bulkGet([...householdIds])) if (record) found.set(record.id, record)
  }
  return [...found.values()]
    .filter((record) => passesFilters(record, options))
    .sort((a, b) => b.updatedAt - a.updatedAt)
    .slice(offset, offset + limit)
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
  const norm = normalizedAddress
  let key: string | null
  let same: (record: LocalRecord) => boolean
  if (kind === 'person') {
    const idNumber = norm(fields['idNumber'])
    key = idNumber.length === 18 ? `person|${idNumber}` : null
    same = (record) => norm(record.fields['idNumber']) === idNumber
  } else if (kind === 'household') {
    key = addressKey(fields['address'])
    const houseNumber = norm(fields['houseNumber'])
    same = (record) =>
      !houseNumber ||
      !norm(record.fields['houseNumber']) ||
      norm(record.fields['houseNumber']) === houseNumber
  } else return []
  if (key === null) return []
  // One exact lookup (a form calls this before every save).
  const candidates = await db.records.where('searchTokens').equals(key).toArray()
  return candidates.filter(
    (record) => record.kind === kind && !record.deleted && record.id !== exceptId && same(record),
  )
}
