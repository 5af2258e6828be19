import type { RecordKind } from '#shared/schemas/records.ts'
import type { ColumnType, Generated } from 'kysely'

/**
 * The tables as Kysely sees them, the same on SQLite and PostgreSQL (JSON columns are text; times are epoch ms, bigint
 * on PostgreSQL and read back as numbers; flags are 0/1 integers).
 */
export interface Database {
  areas: AreasTable
  users: UsersTable
  user_areas: UserAreasTable
  sessions: SessionsTable
  access_tokens: AccessTokensTable
  refresh_tokens: RefreshTokensTable
  login_failures: LoginFailuresTable
  devices: DevicesTable
  records: RecordsTable
  record_exits: RecordExitsTable
  op_writes: OpWritesTable
  applied_ops: AppliedOpsTable
  conflicts: ConflictsTable
  conflict_resolutions: ConflictResolutionsTable
  server_state: ServerStateTable
  audit_log: AuditLogTable
  audit_areas: AuditAreasTable
  photos: PhotosTable
}

export interface AreasTable {
  id: string
  level: 'county' | 'town' | 'village' | 'grid'
  name: string
  parent_id: string | null
  geometry: string | null
  centroid_lat: number | null
  centroid_lng: number | null
}

export interface UsersTable {
  id: string
  username: string
  display_name: string
  role: 'worker' | 'leader' | 'handler' | 'admin'
  password_hash: string
  created_at: number
  disabled: ColumnType<number, number | undefined, number>
}

export interface UserAreasTable {
  user_id: string
  area_id: string
}

/** A login on one device; its tokens live in access_tokens and refresh_tokens (SHA-256 hashes only). */
export interface SessionsTable {
  id: string
  user_id: string
  device_id: string
  created_at: number
  /** The expiry of its current refresh token. */
  expires_at: number
  revoked_at: number | null
  revoked_reason: string | null
}

export interface AccessTokensTable {
  token_hash: string
  session_id: string
  expires_at: number
}

export interface RefreshTokensTable {
  token_hash: string
  session_id: string
  created_at: number
  expires_at: number
  /** Set when the token was exchanged: presenting it again is a reuse (theft detection). */
  rotated_at: number | null
}

export interface LoginFailuresTable {
  id: Generated<number>
  /** `user:<username>` or `ip:<address>`. */
  key: string
  at: number
}

export interface DevicesTable {
  id: string
  user_id: string
  first_seen_at: number
  last_seen_at: number
  wipe_requested_at: ColumnType<number | null, number | null | undefined, number | null>
  wipe_requested_by: ColumnType<string | null, string | null | undefined, string | null>
  wiped_at: ColumnType<number | null, number | null | undefined, number | null>
}

export interface RecordsTable {
  id: string
  kind: RecordKind
  grid_id: string
  village_id: string
  town_id: string
  county_id: string
  fields: string
  /** As storedText.ts encodes them (grouped by stamp; older rows: the plain {field: stamp} map). */
  stamps: string
  deleted: number
  seq: number
  created_at: number
  updated_at: number
}

export interface RecordExitsTable {
  seq: number
  record_id: string
  kind: RecordKind
  grid_id: string
  village_id: string
  town_id: string
  county_id: string
}

/** One op's field writes (see migration 006): `writes` as storedText.ts encodes them (older rows: {field: {v, b, c?}}). */
export interface OpWritesTable {
  id: Generated<number>
  record_id: string
  stamp: string
  writes: string
  device_id: string
  user_id: string
  server_seq: number
  received_at: number
}

export interface AppliedOpsTable {
  device_id: string
  op_seq: number
  record_id: string
  result: string
  applied_at: number
}

export interface ConflictsTable {
  id: Generated<number>
  record_id: string
  field: string
  type: 'edit' | 'delete'
  winner_stamp: string
  winner_value: string
  loser_stamp: string
  loser_value: string
  loser_device_id: string
  loser_user_id: string
  created_at: number
  resolved_at: number | null
  resolved_by: string | null
}

/** A leader's decision about one losing write (005_conflict_resolutions). */
export interface ConflictResolutionsTable {
  record_id: string
  field: string
  loser_stamp: string
  decision: 'keep' | 'restored'
  resolved_by: string
  resolved_at: number
}

export interface ServerStateTable {
  id: ColumnType<number, number, never>
  seq: number
  clock: string | null
  /** Bumped by every change to the area tree; part of every user's scopeKey. */
  areas_version: ColumnType<number, number | undefined, number>
}

export interface AuditLogTable {
  id: Generated<number>
  at: number
  user_id: string
  device_id: string | null
  action: string
  record_kind: string | null
  record_id: string | null
  field: string | null
  detail: string | null
}

/** The areas an audit entry concerns, with their ancestors: an admin sees the entries of their areas. */
export interface AuditAreasTable {
  audit_id: number
  area_id: string
}

/** What the server holds of a photo's bytes; the file is under DATA_DIR/photos (partial/<sha> until complete). */
export interface PhotosTable {
  sha256: string
  /** The photo's full size, as its uploader announced it (`?size=`). */
  bytes: number
  mime: string | null
  width: number | null
  height: number | null
  created_at: number
  uploaded_by: string
  complete: number
}
