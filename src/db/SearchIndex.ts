/**
 * The device's search and list index, in memory: per kind, every live record's searchable text and filter columns,
 * kept newest first. Why in memory: an IndexedDB multiEntry index of name and address fragments made every pulled
 * record and every save write dozens of index entries, and a common fragment still had to load thousands of
 * records; scanning 50,000 short strings in memory takes a few milliseconds, and a page is then one bulkGet.
 *
 * Invariants:
 * - Everything is loaded from IndexedDB on first use; writes that commit while it loads are buffered and replayed
 *   in commit order after the load, so nothing written meanwhile is missed (a replayed put is the whole record).
 * - Changes are applied when their transaction commits (see recordsSearchIndex.ts); an aborted one changes nothing.
 * - `cleared` (a table clear: logout, wipe) drops everything; it loads again on next use. A load that was running
 *   then is discarded by its generation.
 * - Callers read the records of the ids it returns from IndexedDB, so what is shown is always what is stored.
 * - It also answers the duplicate check (records sharing a dupKey), which needed an IndexedDB index of its own
 *   before: one entry less to write for every pulled and saved record.
 */
import type { RecordKind } from '#shared/schemas/records.ts'
import type { Fields } from '#shared/sync/merge.ts'
import { dupKeyOf, matchesTerms, searchTextOf } from './searchText.ts'

/** The columns of a stored record the index reads. */
export interface IndexableRecord {
  id: string
  kind: RecordKind
  fields: Fields
  deleted: 0 | 1
  gridId: string
  updatedAt: number
  parentId?: string | undefined
}

/** What one transaction left: per record id its last written version, or null when it was deleted. */
export interface IndexChanges {
  records: ReadonlyMap<string, IndexableRecord | null>
  /** The table was cleared (logout, wipe): every kind loads again on its next use. */
  cleared: boolean
}

export interface IndexFilters {
  gridId?: string | undefined
  /** A care tag (`fields.tags` contains it). */
  tag?: string | undefined
  /** An incident status (`fields.status`). */
  status?: string | undefined
}

interface Entry {
  id: string
  updatedAt: number
  gridId: string
  parentId: string
  text: string
  status: unknown
  tags: unknown
  dupKey: string | undefined
}

/** Newest first; equal times by id, descending (as the [kind+deleted+updatedAt] index reads in reverse). */
function newestFirst(a: Entry, b: Entry): number {
  return b.updatedAt - a.updatedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
}

function passes(entry: Entry, filters: IndexFilters): boolean {
  if (filters.gridId !== undefined && entry.gridId !== filters.gridId) return false
  if (filters.status !== undefined && entry.status !== filters.status) return false
  if (filters.tag !== undefined && !(Array.isArray(entry.tags) && entry.tags.includes(filters.tag)))
    return false
  return true
}

/** One kind's live records, with a newest-first order that is re-sorted lazily after changes. */
class KindIndex {
  private readonly byId = new Map<string, Entry>()
  /** Ids of the live records per dupKey (see searchText.ts). */
  private readonly byDupKey = new Map<string, Set<string>>()
  private sorted: Entry[] = []
  /** Ids changed since `sorted` was last made (their old entries are still in it). */
  private readonly changed = new Set<string>()

  constructor(readonly kind: RecordKind) {}

  put(record: IndexableRecord): void {
    if (record.deleted) {
      this.delete(record.id)
      return
    }
    this.forgetDupKey(this.byId.get(record.id))
    const entry: Entry = {
      id: record.id,
      updatedAt: record.updatedAt,
      gridId: record.gridId,
      parentId: record.parentId ?? '',
      text: searchTextOf(this.kind, record.fields),
      status: record.fields['status'],
      tags: record.fields['tags'],
      dupKey: dupKeyOf(this.kind, record.fields),
    }
    this.byId.set(record.id, entry)
    if (entry.dupKey !== undefined) {
      let ids = this.byDupKey.get(entry.dupKey)
      if (!ids) this.byDupKey.set(entry.dupKey, (ids = new Set()))
      ids.add(entry.id)
    }
    this.changed.add(record.id)
  }

  delete(id: string): void {
    const entry = this.byId.get(id)
    if (!entry) return
    this.forgetDupKey(entry)
    this.byId.delete(id)
    this.changed.add(id)
  }

  /** Ids of the live records whose dupKey is this one. */
  sharing(dupKey: string): string[] {
    return [...(this.byDupKey.get(dupKey) ?? [])]
  }

  private forgetDupKey(entry: Entry | undefined): void {
    if (entry?.dupKey === undefined) return
    const ids = this.byDupKey.get(entry.dupKey)
    ids?.delete(entry.id)
    if (ids?.size === 0) this.byDupKey.delete(entry.dupKey)
  }

  get size(): number {
    return this.byId.size
  }

  /** The entries newest first. After a few changes this is a filter and a sort of nearly sorted data (TimSort). */
  ordered(): readonly Entry[] {
    if (this.changed.size === 0) return this.sorted
    const kept = this.sorted.filter((entry) => !this.changed.has(entry.id))
    for (const id of this.changed) {
      const entry = this.byId.get(id)
      if (entry) kept.push(entry)
    }
    this.changed.clear()
    this.sorted = kept.sort(newestFirst)
    return this.sorted
  }
}

/** Reads up to `limit` stored records (tombstones included) with ids above `afterId` (from the first when null), by id. */
export type LoadChunk = (afterId: string | null, limit: number) => Promise<IndexableRecord[]>

export class SearchIndex {
  private kinds: Map<RecordKind, KindIndex> | null = null
  private loading: { promise: Promise<void>; buffered: IndexChanges[] } | null = null
  private generation = 0

  /**
   * Loads every record once, on first use, in chunks by id: each chunk is a short task (no long freeze of the page
   * with 50,000 records; it also runs when the app is idle after start, where a chunk of 2,000 was a long task on
   * the home screen's first seconds), and ids never change, so a record is read once even while others are written.
   */
  constructor(
    private readonly loadChunk: LoadChunk,
    private readonly chunkSize = 500,
  ) {}

  /** Apply the changes of one committed transaction. */
  apply(changes: IndexChanges): void {
    if (changes.cleared) {
      this.generation++
      this.kinds = null
      this.loading = null
      return
    }
    if (this.kinds) applyTo(this.kinds, changes)
    this.loading?.buffered.push(changes)
  }

  /**
   * Ids of the records of a kind matching every query term and the filters, newest first. A household also matches
   * when one of its members matches every term (a member's name, ID-number prefix, phone suffix).
   */
  async search(
    kind: RecordKind,
    terms: readonly string[],
    filters: IndexFilters,
    offset: number,
    limit: number,
  ): Promise<string[]> {
    const kinds = await this.loaded()
    const viaMembers = kind === 'household' && terms.length > 0 ? parentsMatching(kinds, terms) : null
    const ids: string[] = []
    let skipped = 0
    for (const entry of indexOf(kinds, kind).ordered()) {
      if (!passes(entry, filters)) continue
      if (!matchesTerms(entry.text, terms) && !viaMembers?.has(entry.id)) continue
      if (skipped < offset) {
        skipped++
        continue
      }
      ids.push(entry.id)
      if (ids.length >= limit) break
    }
    return ids
  }

  /** Ids of a page of a kind's live records, newest first. */
  async page(kind: RecordKind, offset: number, limit: number): Promise<string[]> {
    return indexOf(await this.loaded(), kind)
      .ordered()
      .slice(offset, offset + limit)
      .map((entry) => entry.id)
  }

  /** Ids of the live records of a kind that share this dupKey (likely duplicates; see searchText.ts). */
  async sharingDupKey(kind: RecordKind, dupKey: string): Promise<string[]> {
    return indexOf(await this.loaded(), kind).sharing(dupKey)
  }

  /** How many live records of a kind the index holds. */
  async count(kind: RecordKind): Promise<number> {
    return indexOf(await this.loaded(), kind).size
  }

  /** Load now (e.g. when the app is idle after start), so the first search need not wait. */
  async warm(): Promise<void> {
    await this.loaded()
  }

  private async loaded(): Promise<Map<RecordKind, KindIndex>> {
    for (;;) {
      if (this.kinds) return this.kinds
      await (this.loading ?? this.startLoading()).promise
    }
  }

  private startLoading() {
    const generation = this.generation
    const buffered: IndexChanges[] = []
    const kinds = new Map<RecordKind, KindIndex>()
    const run = async () => {
      let afterId: string | null = null
      for (;;) {
        const chunk = await this.loadChunk(afterId, this.chunkSize)
        if (generation !== this.generation) return // cleared meanwhile: the caller's loop loads again
        for (const record of chunk) indexOf(kinds, record.kind).put(record)
        if (chunk.length < this.chunkSize) break
        afterId = chunk[chunk.length - 1]!.id
      }
      for (const changes of buffered) applyTo(kinds, changes)
      this.kinds = kinds
    }
    const promise: Promise<void> = run().finally(() => {
      if (this.loading?.promise === promise) this.loading = null
    })
    this.loading = { promise, buffered }
    return this.loading
  }
}

function indexOf(kinds: Map<RecordKind, KindIndex>, kind: RecordKind): KindIndex {
  let index = kinds.get(kind)
  if (!index) kinds.set(kind, (index = new KindIndex(kind)))
  return index
}

function parentsMatching(kinds: Map<RecordKind, KindIndex>, terms: readonly string[]): Set<string> {
  const parents = new Set<string>()
  for (const entry of indexOf(kinds, 'person').ordered()) {
    if (entry.parentId && matchesTerms(entry.text, terms)) parents.add(entry.parentId)
  }
  return parents
}

function applyTo(kinds: Map<RecordKind, KindIndex>, changes: IndexChanges): void {
  for (const [id, record] of changes.records) {
    if (record === null) for (const index of kinds.values()) index.delete(id)
    else indexOf(kinds, record.kind).put(record)
  }
}
