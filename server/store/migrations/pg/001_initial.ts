import { sql } from 'kysely'
import type { Kysely } from 'kysely'

/** Every text column compares byte by byte, as SQLite's do, whatever the database's locale. */
const text = sql`text collate "C"`

/**
 * The PostgreSQL schema: the tables SQLite reached through 001–006, made at once (a PostgreSQL database starts at
 * this version, so it has no history to replay). Same tables, columns and meanings as on SQLite, so one set of Kysely
 * queries serves both (see KyselyOps.ts): JSON in text columns, times as epoch ms in bigint, flags as 0/1 integers.
 * A later schema change adds a migration here and one beside the SQLite ones.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('areas')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('level', text, (c) => c.notNull().check(sql`level in ('county', 'town', 'village', 'grid')`))
    .addColumn('name', text, (c) => c.notNull())
    .addColumn('parent_id', text, (c) => c.references('areas.id'))
    .addColumn('geometry', text)
    .addColumn('centroid_lat', 'double precision')
    .addColumn('centroid_lng', 'double precision')
    .execute()
  await db.schema.createIndex('areas_parent').on('areas').column('parent_id').execute()

  await db.schema
    .createTable('users')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('username', text, (c) => c.notNull().unique())
    .addColumn('display_name', text, (c) => c.notNull())
    .addColumn('role', text, (c) => c.notNull().check(sql`role in ('worker', 'leader', 'handler', 'admin')`))
    .addColumn('password_hash', text, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()

  await db.schema
    .createTable('user_areas')
    .addColumn('user_id', text, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('area_id', text, (c) => c.notNull().references('areas.id'))
    .addPrimaryKeyConstraint('user_areas_pk', ['user_id', 'area_id'])
    .execute()

  await db.schema
    .createTable('sessions')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('user_id', text, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('device_id', text, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .addColumn('revoked_reason', text)
    .execute()
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute()
  await db.schema.createIndex('sessions_device').on('sessions').column('device_id').execute()
  await db.schema.createIndex('sessions_expires').on('sessions').column('expires_at').execute()

  for (const table of ['access_tokens', 'refresh_tokens'] as const) {
    let create = db.schema
      .createTable(table)
      .addColumn('token_hash', text, (c) => c.primaryKey())
      .addColumn('session_id', text, (c) => c.notNull().references('sessions.id').onDelete('cascade'))
    if (table === 'refresh_tokens') create = create.addColumn('created_at', 'bigint', (c) => c.notNull())
    create = create.addColumn('expires_at', 'bigint', (c) => c.notNull())
    if (table === 'refresh_tokens') create = create.addColumn('rotated_at', 'bigint')
    await create.execute()
    await db.schema.createIndex(`${table}_session`).on(table).column('session_id').execute()
  }

  await db.schema
    .createTable('login_failures')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('key', text, (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('login_failures_key_at').on('login_failures').columns(['key', 'at']).execute()

  await db.schema
    .createTable('devices')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('user_id', text, (c) => c.notNull().references('users.id'))
    .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('wipe_requested_at', 'bigint')
    .addColumn('wipe_requested_by', text, (c) => c.references('users.id'))
    .addColumn('wiped_at', 'bigint')
    .execute()

  await db.schema
    .createTable('records')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('kind', text, (c) => c.notNull())
    .addColumn('grid_id', text, (c) => c.notNull().references('areas.id'))
    .addColumn('village_id', text, (c) => c.notNull())
    .addColumn('town_id', text, (c) => c.notNull())
    .addColumn('county_id', text, (c) => c.notNull())
    .addColumn('fields', text, (c) => c.notNull())
    .addColumn('stamps', text, (c) => c.notNull())
    .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('records_seq').on('records').column('seq').unique().execute()
  for (const column of ['grid_id', 'village_id', 'town_id', 'county_id']) {
    await db.schema.createIndex(`records_${column}_seq`).on('records').columns([column, 'seq']).execute()
  }
  /** Photo records by their sha256: the scope check of GET /api/photos/:sha256 (POSTGRES_DIALECT.photoSha). */
  await sql`create index records_photo_sha on records ((fields::jsonb ->> 'sha256')) where kind = 'photo'`.execute(
    db,
  )

  await db.schema
    .createTable('record_exits')
    .addColumn('seq', 'bigint', (c) => c.primaryKey())
    .addColumn('record_id', text, (c) => c.notNull())
    .addColumn('kind', text, (c) => c.notNull())
    .addColumn('grid_id', text, (c) => c.notNull())
    .addColumn('village_id', text, (c) => c.notNull())
    .addColumn('town_id', text, (c) => c.notNull())
    .addColumn('county_id', text, (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('op_writes')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('record_id', text, (c) => c.notNull().references('records.id'))
    .addColumn('stamp', text, (c) => c.notNull())
    .addColumn('writes', text, (c) => c.notNull())
    .addColumn('device_id', text, (c) => c.notNull())
    .addColumn('user_id', text, (c) => c.notNull().references('users.id'))
    .addColumn('server_seq', 'bigint', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('op_writes_unique', ['record_id', 'stamp'])
    .execute()

  await db.schema
    .createTable('applied_ops')
    .addColumn('device_id', text, (c) => c.notNull())
    .addColumn('op_seq', 'bigint', (c) => c.notNull())
    .addColumn('record_id', text, (c) => c.notNull())
    .addColumn('result', text, (c) => c.notNull())
    .addColumn('applied_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('applied_ops_pk', ['device_id', 'op_seq'])
    .execute()

  await db.schema
    .createTable('conflicts')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('record_id', text, (c) => c.notNull().references('records.id'))
    .addColumn('field', text, (c) => c.notNull())
    .addColumn('type', text, (c) => c.notNull().check(sql`type in ('edit', 'delete')`))
    .addColumn('winner_stamp', text, (c) => c.notNull())
    .addColumn('winner_value', text, (c) => c.notNull())
    .addColumn('loser_stamp', text, (c) => c.notNull())
    .addColumn('loser_value', text, (c) => c.notNull())
    .addColumn('loser_device_id', text, (c) => c.notNull())
    .addColumn('loser_user_id', text, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('resolved_at', 'bigint')
    .addColumn('resolved_by', text, (c) => c.references('users.id'))
    .addUniqueConstraint('conflicts_unique', ['record_id', 'field', 'loser_stamp', 'type'])
    .execute()
  await db.schema
    .createIndex('conflicts_open')
    .on('conflicts')
    .column('created_at')
    .where(sql.ref('resolved_at'), 'is', null)
    .execute()

  await db.schema
    .createTable('conflict_resolutions')
    .addColumn('record_id', text, (c) => c.notNull().references('records.id'))
    .addColumn('field', text, (c) => c.notNull())
    .addColumn('loser_stamp', text, (c) => c.notNull())
    .addColumn('decision', text, (c) => c.notNull().check(sql`decision in ('keep', 'restored')`))
    .addColumn('resolved_by', text, (c) => c.notNull().references('users.id'))
    .addColumn('resolved_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('conflict_resolutions_pk', ['record_id', 'field', 'loser_stamp'])
    .execute()

  /** One row: the server seq counter (locked by every transaction, see PgSyncStore), the clock, the tree version. */
  await db.schema
    .createTable('server_state')
    .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('clock', text)
    .addColumn('areas_version', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
  await sql`insert into server_state (id, seq, clock) values (1, 0, null)`.execute(db)

  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('user_id', text, (c) => c.notNull().references('users.id'))
    .addColumn('device_id', text)
    .addColumn('action', text, (c) => c.notNull())
    .addColumn('record_kind', text)
    .addColumn('record_id', text)
    .addColumn('field', text)
    .addColumn('detail', text)
    .execute()
  await db.schema
    .createTable('audit_areas')
    .addColumn('audit_id', 'bigint', (c) => c.notNull().references('audit_log.id').onDelete('cascade'))
    .addColumn('area_id', text, (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_areas_pk', ['area_id', 'audit_id'])
    .execute()

  await db.schema
    .createTable('photos')
    .addColumn('sha256', text, (c) => c.primaryKey())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('mime', text)
    .addColumn('width', 'integer')
    .addColumn('height', 'integer')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('uploaded_by', text, (c) => c.notNull().references('users.id'))
    .addColumn('complete', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'photos',
    'audit_areas',
    'audit_log',
    'server_state',
    'conflict_resolutions',
    'conflicts',
    'applied_ops',
    'op_writes',
    'record_exits',
    'records',
    'devices',
    'login_failures',
    'refresh_tokens',
    'access_tokens',
    'sessions',
    'user_areas',
    'users',
    'areas',
  ]) {
    await db.schema.dropTable(table).execute()
  }
}
