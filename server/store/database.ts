import type { ColumnType, Generated } from 'kysely'

/** The SQLite tables as Kysely sees them (JSON columns are TEXT; times are epoch ms). */
export interface Database {
  areas: AreasTable
  users: UsersTable
  user_areas: UserAreasTable
  sessions: SessionsTable
  devices: DevicesTable
  records: RecordsTable
  field_writes: FieldWritesTable
  applied_ops: AppliedOpsTable
  conflicts: ConflictsTable
  server_state: ServerStateTable
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
}

export interface UserAreasTable {
  user_id: string
  area_id: string
}

export interface SessionsTable {
  token_hash: string
  user_id: string
  device_id: string
  created_at: number
  expires_at: number
}

export interface DevicesTable {
  id: string
  user_id: string
  first_seen_at: number
  last_seen_at: number
}

export interface RecordsTable {
  id: string
  kind: 'household' | 'place' | 'incident'
  grid_id: string
  village_id: string
  town_id: string
  county_id: string
  fields: string
  stamps: string
  deleted: number
  seq: number
  created_at: number
  updated_at: number
}

export interface FieldWritesTable {
  id: Generated<number>
  record_id: string
  field: string
  stamp: string
  base: string | null
  value: string
  context: string | null
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

export interface ServerStateTable {
  id: ColumnType<number, number, never>
  seq: number
  clock: string | null
}
