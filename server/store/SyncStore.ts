import type { AreaLevel } from '#shared/domain/areaCodes.ts'
import type { RecordKind } from '#shared/schemas/records.ts'
import type { Stamp } from '#shared/sync/hlc.ts'
import type { FieldWrite, Fields, Stamps } from '#shared/sync/merge.ts'
import type { OpResult, Scope } from '#shared/sync/protocol.ts'

import type { UserRole as Role } from '#shared/schemas/api.ts'

export type { Role }

/** A GeoJSON Polygon, WGS-84, positions as [lng, lat]. */
export interface GeoPolygon {
  type: 'Polygon'
  coordinates: [number, number][][]
}

export interface Area {
  id: string
  level: AreaLevel
  name: string
  parentId: string | null
  geometry: GeoPolygon | null
  centroid: { lat: number; lng: number } | null
}

export interface User {
  id: string
  username: string
  displayName: string
  role: Role
  areaIds: string[]
}

/** A user as the admin screens see it. */
export interface UserAccount extends User {
  disabled: boolean
  createdAt: number
}

export interface NewUser extends User {
  passwordHash: string
  createdAt: number
}

export interface UserChanges {
  displayName?: string
  role?: Role
  passwordHash?: string
  disabled?: boolean
}

/** The caller of an authenticated request: a live session of an enabled user on one device. */
export interface Session {
  id: string
  user: User
  deviceId: string
  accessExpiresAt: number
}

export interface NewSession {
  id: string
  userId: string
  deviceId: string
  createdAt: number
  /** When its current refresh token expires. */
  expiresAt: number
}

/** What an access token's hash leads to; the service decides between live, expired and revoked. */
export interface AccessTokenRow {
  sessionId: string
  deviceId: string
  expiresAt: number
  revokedAt: number | null
  user: User & { disabled: boolean }
}

export interface RefreshTokenRow {
  tokenHash: string
  sessionId: string
  userId: string
  deviceId: string
  expiresAt: number
  rotatedAt: number | null
  revokedAt: number | null
}

export type SessionFilter = { sessionId: string } | { deviceId: string } | { userId: string }

export interface DeviceRow {
  id: string
  userId: string
  username: string
  displayName: string
  firstSeenAt: number
  lastSeenAt: number
  wipeRequestedAt: number | null
  wipedAt: number | null
}

export const AUDIT_ACTIONS = [
  'unmask',
  'user_created',
  'user_updated',
  'area_created',
  'area_updated',
  'grid_moved',
  'device_wipe_requested',
  'device_wiped',
] as const
export type AuditAction = (typeof AUDIT_ACTIONS)[number]

/** What an audit entry is about: a record kind, or 'user', 'area', 'device' for the admin actions. */
export type AuditSubject = RecordKind | 'user' | 'area' | 'device'

export interface AuditEntry {
  id: number
  at: number
  userId: string
  username: string
  deviceId: string | null
  action: AuditAction
  recordKind: AuditSubject | null
  recordId: string | null
  field: string | null
  detail: Record<string, unknown> | null
}

export interface NewAuditEntry extends Omit<AuditEntry, 'id' | 'username'> {
  /** The areas the entry concerns, with their ancestors (admins see the entries of their areas). */
  areaIds: readonly string[]
}

/** Which records a user may pull: covered by one of `areaIds` (grid or an ancestor) and of a readable kind. */
export interface RecordFilter {
  areaIds: readonly string[]
  kinds: readonly RecordKind[]
}

export interface RecordExit {
  seq: number
  recordId: string
  kind: RecordKind
  scope: Scope
}

/** The server's copy of a record: merged fields with their stamps, and the seq of its last change. */
export interface StoredRecord {
  id: string
  kind: RecordKind
  fields: Fields
  stamps: Stamps
  deleted: boolean
  seq: number
  scope: Scope
  createdAt: number
  updatedAt: number
}

/** One entry of a record's history (全流程留痕): a field write and who sent it, when. */
export interface StoredWrite extends FieldWrite {
  deviceId: string
  userId: string
  serverSeq: number
  receivedAt: number
}

/** One op's history row as stored: its field writes together as JSON (see opWriteRowsFor in KyselyOps.ts). */
export interface OpHistoryRow {
  record_id: string
  stamp: string
  writes: string
  device_id: string
  user_id: string
  server_seq: number
  received_at: number
}

export interface ConflictRow {
  id: number
  recordId: string
  field: string
  type: 'edit' | 'delete'
  winnerStamp: Stamp
  winnerValue: unknown
  loserStamp: Stamp
  loserValue: unknown
  loserDeviceId: string
  loserUserId: string
  createdAt: number
  resolvedAt: number | null
  resolvedBy: string | null
}

export type NewConflict = Omit<ConflictRow, 'id' | 'recordId' | 'createdAt' | 'resolvedAt' | 'resolvedBy'>

/** A leader's decision about one losing write, keyed by (record, field, loser stamp); written once. */
export interface ConflictResolutionRow {
  recordId: string
  field: string
  loserStamp: Stamp
  decision: 'keep' | 'restored'
  resolvedBy: string
  resolvedAt: number
}

/** An open conflict of the review queue with the record it is about. */
export interface OpenConflict {
  conflict: ConflictRow
  record: StoredRecord
}

/** What the server holds of a photo's bytes (see services/photoService.ts). */
export interface PhotoRow {
  sha256: string
  bytes: number
  mime: string | null
  width: number | null
  height: number | null
  createdAt: number
  uploadedBy: string
  complete: boolean
}

/** The answer a device got for one op (see saveAppliedResult). */
export interface AppliedResultRow {
  deviceId: string
  opSeq: number
  recordId: string
  result: OpResult
  appliedAt: number
}

/** What the services may do with storage, inside or outside a transaction. */
export interface StoreOps {
  // Areas
  countAreas(): Promise<number>
  listAreas(): Promise<Area[]>
  getArea(id: string): Promise<Area | null>
  insertAreas(areas: readonly Area[]): Promise<void>
  updateArea(
    id: string,
    changes: Partial<Pick<Area, 'name' | 'parentId' | 'geometry' | 'centroid'>>,
  ): Promise<void>
  /** The grid's village, town and county, following the parent links (null: not a known grid). */
  scopeOfGrid(gridId: string): Promise<Scope | null>
  areasVersion(): Promise<number>
  /** Called by every change to the area tree: every user's scopeKey changes with it. */
  bumpAreasVersion(): Promise<number>
  /** Give the grid's records their new ancestors and each a new server seq (in their old order); returns how many. */
  moveGridRecords(gridId: string, scope: Scope): Promise<number>

  // Users
  insertUser(user: NewUser): Promise<void>
  findUserByUsername(username: string): Promise<(User & { passwordHash: string; disabled: boolean }) | null>
  getUser(id: string): Promise<UserAccount | null>
  listUsers(): Promise<UserAccount[]>
  updateUser(id: string, changes: UserChanges): Promise<void>
  setUserAreas(id: string, areaIds: readonly string[]): Promise<void>

  // Sessions and their tokens (SHA-256 hashes only)
  insertSession(session: NewSession): Promise<void>
  insertAccessToken(token: { tokenHash: string; sessionId: string; expiresAt: number }): Promise<void>
  insertRefreshToken(token: {
    tokenHash: string
    sessionId: string
    createdAt: number
    expiresAt: number
  }): Promise<void>
  findAccessToken(tokenHash: string): Promise<AccessTokenRow | null>
  findRefreshToken(tokenHash: string): Promise<RefreshTokenRow | null>
  markRefreshTokenRotated(tokenHash: string, now: number): Promise<void>
  setSessionExpiry(sessionId: string, expiresAt: number): Promise<void>
  /** Drop a session's access tokens expired before `accessBefore` and its spent refresh tokens expired before `now`. */
  pruneSessionTokens(sessionId: string, accessBefore: number, now: number): Promise<void>
  /** Drop sessions whose refresh token expired before `now`, with their tokens. */
  pruneExpiredSessions(now: number): Promise<void>
  /** Revoke the live sessions matching `filter`; returns how many. */
  revokeSessions(filter: SessionFilter, now: number, reason: string): Promise<number>

  // Login rate limit
  /** The times of `key`'s failed logins at or after `since`, oldest first. */
  listLoginFailures(key: string, since: number): Promise<number[]>
  insertLoginFailure(key: string, at: number): Promise<void>
  clearLoginFailures(key: string): Promise<void>
  pruneLoginFailures(before: number): Promise<void>

  // Devices
  touchDevice(deviceId: string, userId: string, now: number): Promise<void>
  getDevice(id: string): Promise<DeviceRow | null>
  listDevices(): Promise<DeviceRow[]>
  requestWipe(id: string, by: string, now: number): Promise<void>
  markWiped(id: string, now: number): Promise<void>

  // Audit
  insertAudit(entry: NewAuditEntry): Promise<number>
  /** Newest first; entries concerning one of `areaIds` (all entries when null), with id < `before`. */
  listAudit(query: {
    areaIds: readonly string[] | null
    before?: number
    limit: number
  }): Promise<AuditEntry[]>

  // Records
  getAppliedResult(deviceId: string, opSeq: number): Promise<OpResult | null>
  saveAppliedResult(
    deviceId: string,
    opSeq: number,
    recordId: string,
    result: OpResult,
    now: number,
  ): Promise<void>
  getRecord(id: string): Promise<StoredRecord | null>
  /** Insert or replace the record. */
  saveRecord(record: StoredRecord): Promise<void>
  /** The next server change sequence number (strictly increasing, never reused). */
  nextSeq(): Promise<number>
  /** The last server change sequence number handed out (for a batch that hands out the next ones itself). */
  lastSeq(): Promise<number>
  /** Record that numbers up to `seq` were handed out (never moves backwards). */
  advanceSeq(seq: number): Promise<void>
  /** Many records at once (the ones that exist). */
  getRecords(ids: readonly string[]): Promise<StoredRecord[]>
  /** The answers already given to some of a device's ops, by op seq. */
  getAppliedResults(deviceId: string, opSeqs: readonly number[]): Promise<Map<number, OpResult>>
  /** Insert or replace many records at once. */
  saveRecords(records: readonly StoredRecord[]): Promise<void>
  /** Add many records' writes at once (a write already there is ignored, as in insertWrites). */
  insertWritesOf(writes: readonly (StoredWrite & { recordId: string })[]): Promise<void>
  /** Add ops' history rows built beforehand (opWriteRowsFor); a row already there (same record and stamp) is ignored. */
  insertOpRows(rows: readonly OpHistoryRow[]): Promise<void>
  /** Remember many answers at once. */
  saveAppliedResults(rows: readonly AppliedResultRow[]): Promise<void>
  /** Add writes to the record's history; a write already there (same field and stamp) is ignored. */
  insertWrites(recordId: string, writes: readonly StoredWrite[]): Promise<void>
  listWrites(recordId: string): Promise<StoredWrite[]>
  /**
   * Make the record's conflict rows match `conflicts`: insert new ones, update the winner of open ones, delete open
   * rows no longer implied. Resolved rows are kept untouched (a leader's decision is history); a new row of a losing
   * write a leader already decided about is inserted resolved, so a recomputation never reopens a decision.
   */
  replaceConflicts(recordId: string, conflicts: readonly NewConflict[], now: number): Promise<void>
  listConflicts(recordId: string): Promise<ConflictRow[]>
  /** The write of `field` with `stamp` in the record's history, if there is one. */
  getWrite(recordId: string, field: string, stamp: Stamp): Promise<StoredWrite | null>
  /**
   * Open (unresolved) conflicts of records the filter covers, newest first (by row id, below `before` when given),
   * each with its record (done in SQL on the indexed scope columns).
   */
  listOpenConflicts(query: RecordFilter & { before?: number; limit: number }): Promise<OpenConflict[]>
  countOpenConflicts(filter: RecordFilter): Promise<number>
  getConflictResolution(
    recordId: string,
    field: string,
    loserStamp: Stamp,
  ): Promise<ConflictResolutionRow | null>
  /**
   * Keep the decision unless one is already kept for that losing write (first decision wins), and mark the open
   * conflict rows of that losing write resolved; returns the decision kept.
   */
  resolveConflict(resolution: ConflictResolutionRow): Promise<ConflictResolutionRow>
  /**
   * Records changed after `since`, in server sequence order (tombstones included); with a filter, only those it
   * covers (done in SQL on the indexed scope columns).
   */
  listRecordsSince(since: number, limit: number, filter?: RecordFilter): Promise<StoredRecord[]>
  /** Remember that a record left `scope` with its change `seq` (an edit moved it to another grid). */
  insertExit(exit: RecordExit): Promise<void>
  /**
   * Exits in (since, upTo] (upTo null: no upper bound) from a scope the filter covers, of records the filter no
   * longer covers: the records a phone with that filter must drop.
   */
  listExitsSince(since: number, upTo: number | null, filter: RecordFilter): Promise<RecordExit[]>
  loadClock(): Promise<Stamp | null>
  saveClock(stamp: Stamp): Promise<void>

  // photos
  getPhoto(sha256: string): Promise<PhotoRow | null>
  /** Insert or replace the row of this sha256. */
  savePhoto(photo: PhotoRow): Promise<void>
  deletePhoto(sha256: string): Promise<void>
  /** The scopes of the live photo records whose `sha256` field is this one (who may see the bytes). */
  photoRecordScopes(sha256: string): Promise<Scope[]>
}

/** The store port: SqliteSyncStore (one process) and PgSyncStore (several processes over one database). */
export interface SyncStore extends StoreOps {
  /** Run `fn` in one transaction: all of it is stored, or nothing. Transactions do not nest. */
  transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T>
  /**
   * Run `fn` on one consistent view of the store (every query in it sees the same commits), for reading only: `fn`
   * must not write. Unlike `transaction` it does not queue behind writers on PostgreSQL (see PgSyncStore).
   */
  readTransaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T>
  close(): Promise<void>
}
