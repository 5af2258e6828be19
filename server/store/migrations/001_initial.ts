import { sql } from 'kysely'
import type { Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('areas')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('level', 'text', (c) => c.notNull().check(sql`level in ('county', 'town', 'village', 'grid')`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('parent_id', 'text', (c) => c.references('areas.id'))
    .addColumn('geometry', 'text')
    .addColumn('centroid_lat', 'real')
    .addColumn('centroid_lng', 'real')
    .execute()
  await db.schema.createIndex('areas_parent').on('areas').column('parent_id').execute()

  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) =>
      c.notNull().check(sql`role in ('worker', 'leader', 'handler', 'admin')`),
    )
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('user_areas')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('area_id', 'text', (c) => c.notNull().references('areas.id'))
    .addPrimaryKeyConstraint('user_areas_pk', ['user_id', 'area_id'])
    .execute()

  await db.schema
    .createTable('sessions')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('expires_at', 'integer', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute()

  await db.schema
    .createTable('devices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('first_seen_at', 'integer', (c) => c.notNull())
    .addColumn('last_seen_at', 'integer', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('records')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('household', 'place', 'incident')`))
    .addColumn('grid_id', 'text', (c) => c.notNull().references('areas.id'))
    .addColumn('village_id', 'text', (c) => c.notNull())
    .addColumn('town_id', 'text', (c) => c.notNull())
    .addColumn('county_id', 'text', (c) => c.notNull())
    .addColumn('fields', 'text', (c) => c.notNull())
    .addColumn('stamps', 'text', (c) => c.notNull())
    .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'integer', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('records_seq').on('records').column('seq').unique().execute()
  for (const column of ['grid_id', 'village_id', 'town_id', 'county_id']) {
    await db.schema.createIndex(`records_${column}_seq`).on('records').columns([column, 'seq']).execute()
  }

  await db.schema
    .createTable('field_writes')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('record_id', 'text', (c) => c.notNull().references('records.id'))
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('stamp', 'text', (c) => c.notNull())
    .addColumn('base', 'text')
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('context', 'text')
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('server_seq', 'integer', (c) => c.notNull())
    .addColumn('received_at', 'integer', (c) => c.notNull())
    .addUniqueConstraint('field_writes_unique', ['record_id', 'field', 'stamp'])
    .execute()

  await db.schema
    .createTable('applied_ops')
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('op_seq', 'integer', (c) => c.notNull())
    .addColumn('record_id', 'text', (c) => c.notNull())
    .addColumn('result', 'text', (c) => c.notNull())
    .addColumn('applied_at', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('applied_ops_pk', ['device_id', 'op_seq'])
    .modifyEnd(sql`without rowid`)
    .execute()

  await db.schema
    .createTable('conflicts')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('record_id', 'text', (c) => c.notNull().references('records.id'))
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('edit', 'delete')`))
    .addColumn('winner_stamp', 'text', (c) => c.notNull())
    .addColumn('winner_value', 'text', (c) => c.notNull())
    .addColumn('loser_stamp', 'text', (c) => c.notNull())
    .addColumn('loser_value', 'text', (c) => c.notNull())
    .addColumn('loser_device_id', 'text', (c) => c.notNull())
    .addColumn('loser_user_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('resolved_at', 'integer')
    .addColumn('resolved_by', 'text', (c) => c.references('users.id'))
    .addUniqueConstraint('conflicts_unique', ['record_id', 'field', 'loser_stamp', 'type'])
    .execute()
  await db.schema
    .createIndex('conflicts_open')
    .on('conflicts')
    .column('created_at')
    .where(sql.ref('resolved_at'), 'is', null)
    .execute()

  await db.schema
    .createTable('server_state')
    .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('clock', 'text')
    .execute()
  await sql`insert into server_state (id, seq, clock) values (1, 0, null)`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'server_state',
    'conflicts',
    'applied_ops',
    'field_writes',
    'records',
    'devices',
    'sessions',
    'user_areas',
    'users',
    'areas',
  ]) {
    await db.schema.dropTable(table).execute()
  }
}
