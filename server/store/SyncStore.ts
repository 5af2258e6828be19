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

export interface NewUser extends User {
  passwordHash: string
  createdAt: number
}

export interface Session {
  user: User
  deviceId: string
  expiresAt: number
}

export interface NewSession {
  tokenHash: string
  userId: string
  deviceId: string
  createdAt: number
  expiresAt: number
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

/** What the services may do with storage, inside or outside a transaction. */
export interface StoreOps {
  countAreas(): Promise<number>
  listAreas(): Promise<Area[]>
  insertAreas(areas: readonly Area[]): Promise<void>
  /** The grid's village, town and county, following the parent links (null: not a known grid). */
  scopeOfGrid(gridId: string): Promise<Scope | null>

  insertUser(user: NewUser): Promise<void>
  findUserByUsername(username: string): Promise<(User & { passwordHash: string }) | null>

  insertSession(session: NewSession): Promise<void>
  /** The live session with this token hash (null when unknown or expired at `now`). */
  findSession(tokenHash: string, now: number): Promise<Session | null>
  deleteSession(tokenHash: string): Promise<void>
  touchDevice(deviceId: string, userId: string, now: number): Promise<void>

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
  /** Add writes to the record's history; a write already there (same field and stamp) is ignored. */
  insertWrites(recordId: string, writes: readonly StoredWrite[]): Promise<void>
  listWrites(recordId: string): Promise<StoredWrite[]>
  /**
   * Make the record's conflict rows match `conflicts`: insert new ones, update the winner of open ones, delete open
   * rows no longer implied. Resolved rows are kept untouched (a leader's decision is history).
   */
  replaceConflicts(recordId: string, conflicts: readonly NewConflict[], now: number): Promise<void>
  listConflicts(recordId: string): Promise<ConflictRow[]>
  /** Records changed after `since`, in server sequence order (tombstones included). */
  listRecordsSince(since: number, limit: number): Promise<StoredRecord[]>
  loadClock(): Promise<Stamp | null>
  saveClock(stamp: Stamp): Promise<void>
}

/** The store port: the SQLite adapter now, PostgreSQL later. */
export interface SyncStore extends StoreOps {
  /** Run `fn` in one transaction: all of it is stored, or nothing. Transactions do not nest. */
  transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T>
  close(): Promise<void>
}
