/**
 * The device's IndexedDB database (Dexie 4). Bump the version and add an upgrade for every schema change: never
 * delete and recreate the outbox, and never lose `meta`: the device id and `lastOpSeq` there are what keep op
 * sequences unique per device (the server remembers what it applied per device and op seq, so a reused seq would be
 * taken for a retry and silently dropped).
 *
 * Invariants:
 * - Op seqs and clock stamps strictly increase and are never reused, even if the outbox is cleared or its key
 *   generator reset: the highest issued is the newest queued op's or `meta.lastOpSeq` / `meta.clock`, which every
 *   path that takes ops out of the outbox raises first (deviceClock.ts). The device id lives in the same table: a
 *   wiped database makes a new device id, so a fresh sequence is a fresh (device, seq) namespace.
 * - `scopeKey` is stored only when a pull run completes (see SyncEngine.ts): a key that differs from the server's
 *   makes the next pull a rebuild that drops the records the user lost.
 * - Whether a record has ops queued is read from the outbox (its `id` index; `withQueuedState` in recordQueries.ts):
 *   an acknowledged push only deletes outbox rows and writes no record, so a record's stored `pending` is as of its
 *   last write (a save sets it, a pull page sets it from the outbox). Remote writes to fields with unacknowledged local ops
 *   (in the outbox or refused and not yet dismissed) are not shown but kept in `held`, and merged in when those ops
 *   leave (acknowledged, or refused and dismissed), so the device still converges with the server.
 */
import { Dexie, type Table } from 'dexie'
import type { Clock } from '#shared/sync/hlc.ts'
import type { Fields, RecordState, Stamps } from '#shared/sync/merge.ts'
import type { Op, RefusalCode } from '#shared/sync/protocol.ts'
import type { RecordKind } from '#shared/schemas/records.ts'
import type { AreaLevel } from '#shared/domain/areaCodes.ts'
import type { AppConfig, Polygon, SessionTokens, SessionUser } from '#shared/schemas/api.ts'
import { parentIdOf } from './searchText.ts'
import type { SearchIndex } from './SearchIndex.ts'
import { createRecordsSearchIndex } from './recordsSearchIndex.ts'

export interface LocalRecord {
  id: string
  kind: RecordKind
  fields: Fields
  stamps: Stamps
  deleted: 0 | 1
  gridId: string
  /** Rows stored before 2026-11-23 may still carry their grid's village, town and county ids, which nothing read. */
  villageId?: string
  townId?: string
  countyId?: string
  /** The ms of the record's newest stamp (hybrid clock time, so it orders alike on every device). */
  updatedAt: number
  /** The server's change sequence of the last pulled version, 0 for a record the server has not sent yet. */
  serverSeq: number
  /**
   * 1 if the record had ops in the outbox when it was last written. An acknowledgement does not rewrite records, so
   * read the current state from the outbox (`withQueuedState` in recordQueries.ts).
   */
  pending: 0 | 1
  /** Remote writes held back from fields with unacknowledged local ops. */
  held?: RecordState
  /** Derived: the household of a member, the target of a visit, the owner of a photo; absent otherwise. */
  parentId?: string
  /** No longer written (v7): rows stored by v4–v6 may still carry it. */
  dupKey?: string | undefined
}

/** A photo's bytes on the device (an ArrayBuffer: Safari's IndexedDB keeps those reliably, Blobs less so). */
export interface PhotoBlobRow {
  sha256: string
  mime: string
  data: ArrayBuffer
  bytes: number
  /**
   * 1 once the server said the photo is complete (the bytes stay for local display); absent while staged, so the
   * `uploaded` index (what the uploader reads) does not hold staged bytes.
   */
  uploaded?: 0 | 1
  /** Bytes the server is known to hold. */
  offset: number
  createdAt: number
  /** 1 while no photo record refers to it yet (taken in the form of an unsaved record): not uploaded. */
  staged?: 1
}

export interface DraftRow {
  /** A form key such as `household:new` or `person:<id>`. */
  key: string
  fields: Record<string, unknown>
  savedAt: number
}

/** A patrol-track point as it arrived, before it is copied into the track record's `points`. */
export interface TrackPointRow {
  id?: number
  trackId: string
  point: [number, number, number, number]
}

/** An outbox row: the op exactly as pushed, plus the values it overwrote (to undo it if refused and dismissed). */
export type OutboxOp = Op & { prev: Fields }

export type RefusedOp = OutboxOp & {
  code: RefusalCode
  reason: string
  field?: string
  refusedAt: number
}

export interface AreaRow {
  id: string
  level: AreaLevel
  name: string
  parentId: string | null
  geometry: Polygon | null
}

/**
 * The cached session: the user as the server last described them and the tokens (see SessionTokens). The app keeps
 * working offline on it whatever its expiry says; only the server decides that a token is no longer good.
 * A session from before refresh tokens has an empty `refreshToken`: its first 401 asks for the password again.
 */
export type StoredSession = SessionTokens & { user: SessionUser }

export interface MetaValues {
  deviceId: string
  clock: Clock
  lastOpSeq: number
  pullCursor: number
  /** The server's scope key of the last completed pull run. */
  scopeKey: string
  lastSyncAt: number
  session: StoredSession
  config: AppConfig
}
export type MetaKey = keyof MetaValues

export interface MetaRow<K extends MetaKey = MetaKey> {
  key: K
  value: MetaValues[K]
}

export class GridPatrolDb extends Dexie {
  records!: Table<LocalRecord, string>
  outbox!: Table<OutboxOp, number>
  refused!: Table<RefusedOp, number>
  meta!: Table<MetaRow, MetaKey>
  areas!: Table<AreaRow, string>
  photoBlobs!: Table<PhotoBlobRow, string>
  drafts!: Table<DraftRow, string>
  trackPoints!: Table<TrackPointRow, number>
  /** Search and newest-first pages over the records, in memory, kept in step with every write (SearchIndex.ts). */
  readonly searchIndex: SearchIndex

  constructor(name = 'gridpatrol') {
    super(name)
    this.searchIndex = createRecordsSearchIndex(this, {
      name,
      chunk: (afterId, limit) =>
        (afterId === null ? this.records.orderBy(':id') : this.records.where(':id').above(afterId))
          .limit(limit)
          .toArray(),
      getMany: (ids) => this.records.bulkGet(ids),
    })
    // Lists and counts per kind skip tombstones on [kind+deleted+updatedAt] (newest first by reversing it).
    this.version(1).stores({
      records: 'id, kind, [kind+deleted+updatedAt], gridId, pending',
      outbox: '++seq, id',
      refused: 'seq, id',
      meta: 'key',
      areas: 'id, level, parentId',
    })
    // v2: sessions carry an access and a refresh token instead of one token.
    this.version(2)
      .stores({})
      .upgrade(async (tx) => {
        const row = (await tx.table('meta').get('session')) as { value?: unknown } | undefined
        const legacy = row?.value as { token?: unknown; user?: SessionUser } | undefined
        if (!legacy || typeof legacy.token !== 'string' || !legacy.user) return
        const session: StoredSession = {
          accessToken: legacy.token,
          accessExpiresAt: 0,
          refreshToken: '',
          refreshExpiresAt: 0,
          user: legacy.user,
        }
        await tx.table('meta').put({ key: 'session', value: session })
      })
    // v3 (field capture): search tokens and parent ids derived on every write, photo bytes, drafts, track points.
    this.version(3)
      .stores({
        records: 'id, kind, [kind+deleted+updatedAt], gridId, pending, *searchTokens, [kind+parentId]',
        photoBlobs: 'sha256, uploaded',
        drafts: 'key',
        trackPoints: '++id, trackId',
      })
      .upgrade(async (tx) => {
        await tx
          .table('records')
          .toCollection()
          .modify((record: LocalRecord) => {
            const parentId = parentIdOf(record.kind, record.fields)
            if (parentId) record.parentId = parentId
          })
      })
    // v4: search moved to memory (SearchIndex.ts): the multiEntry fragment index goes (it made every write heavy), a
    // single [kind+dupKey] entry per household or member serves the duplicate check.
    this.version(4)
      .stores({
        records: 'id, kind, [kind+deleted+updatedAt], gridId, pending, [kind+parentId], [kind+dupKey]',
      })
      .upgrade(async (tx) => {
        await tx
          .table('records')
          .toCollection()
          .modify((record: LocalRecord & { searchTokens?: unknown }) => {
            delete record.searchTokens
          })
      })
    // v5: drop the indexes no query reads (kind, gridId, pending): each was written with every record.
    this.version(5).stores({
      records: 'id, [kind+deleted+updatedAt], [kind+parentId], [kind+dupKey]',
    })
    // v6: staged photo bytes are indexed, so the sweep at start reads only those, not every photo's bytes.
    this.version(6).stores({ photoBlobs: 'sha256, uploaded, staged' })
    // v7: the duplicate check moved to the in-memory SearchIndex, so [kind+dupKey] goes, and records without a
    // parent no longer write an empty parentId: a household now makes one index entry instead of three (each entry
    // is a write of its own, on every pulled record and every save). Old rows are not rewritten for it.
    // Query a kind through liveRange/countLive ([kind+deleted+updatedAt]): a bare where('kind') lets Dexie pick any
    // index starting with kind, and the now sparse [kind+parentId] holds no household.
    this.version(7).stores({ records: 'id, [kind+deleted+updatedAt], [kind+parentId]' })
  }

  /** Every table holding a user's data (all but `meta`): what a logout of another user or a remote wipe clears. */
  userDataTables() {
    return [
      this.records,
      this.outbox,
      this.refused,
      this.areas,
      this.photoBlobs,
      this.drafts,
      this.trackPoints,
    ]
  }

  async getMeta<K extends MetaKey>(key: K): Promise<MetaValues[K] | undefined> {
    const row = await this.meta.get(key)
    return row?.value as MetaValues[K] | undefined
  }

  async setMeta<K extends MetaKey>(key: K, value: MetaValues[K]): Promise<void> {
    await this.meta.put({ key, value } as MetaRow)
  }

  /** The device id, made once with `make` (any [A-Za-z0-9_-]{8,64}) and kept for the life of the database. */
  ensureDeviceId(make: () => string): Promise<string> {
    return this.transaction('rw', this.meta, async () => {
      const existing = await this.getMeta('deviceId')
      if (existing) return existing
      const id = make()
      await this.setMeta('deviceId', id)
      return id
    })
  }
}

/** A device id from a UUIDv7 maker: the UUID without its dashes (32 hex digits). */
export function deviceIdFrom(newId: () => string): () => string {
  return () => newId().replaceAll('-', '')
}
