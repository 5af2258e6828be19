import { sql } from 'kysely'
import type { Kysely } from 'kysely'

/**
 * Accounts, sessions and scope: disabled users, sessions with hashed access and refresh tokens (the old one-token
 * sessions are dropped: their devices log in again), login failures for the rate limit, device wipes, the area
 * tree's version and the audit log.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()

  await db.schema.dropTable('sessions').execute()
  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('expires_at', 'integer', (c) => c.notNull())
    .addColumn('revoked_at', 'integer')
    .addColumn('revoked_reason', 'text')
    .execute()
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute()
  await db.schema.createIndex('sessions_device').on('sessions').column('device_id').execute()

  await db.schema
    .createTable('access_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
    .addColumn('expires_at', 'integer', (c) => c.notNull())
    .modifyEnd(sql`without rowid`)
    .execute()
  await db.schema.createIndex('access_tokens_session').on('access_tokens').column('session_id').execute()

  await db.schema
    .createTable('refresh_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('expires_at', 'integer', (c) => c.notNull())
    .addColumn('rotated_at', 'integer')
    .modifyEnd(sql`without rowid`)
    .execute()
  await db.schema.createIndex('refresh_tokens_session').on('refresh_tokens').column('session_id').execute()

  await db.schema
    .createTable('login_failures')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('at', 'integer', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('login_failures_key_at').on('login_failures').columns(['key', 'at']).execute()

  await db.schema.alterTable('devices').addColumn('wipe_requested_at', 'integer').execute()
  await db.schema
    .alterTable('devices')
    .addColumn('wipe_requested_by', 'text', (c) => c.references('users.id'))
    .execute()
  await db.schema.alterTable('devices').addColumn('wiped_at', 'integer').execute()

  await db.schema
    .alterTable('server_state')
    .addColumn('areas_version', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()

  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('at', 'integer', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('device_id', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('record_kind', 'text')
    .addColumn('record_id', 'text')
    .addColumn('field', 'text')
    .addColumn('detail', 'text')
    .execute()
  await db.schema
    .createTable('audit_areas')
    .addColumn('audit_id', 'integer', (c) => c.notNull().references('audit_log.id').onDelete('cascade'))
    .addColumn('area_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_areas_pk', ['area_id', 'audit_id'])
    .modifyEnd(sql`without rowid`)
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['audit_areas', 'audit_log', 'login_failures', 'refresh_tokens', 'access_tokens']) {
    await db.schema.dropTable(table).execute()
  }
  await db.schema.alterTable('server_state').dropColumn('areas_version').execute()
  for (const column of ['wiped_at', 'wipe_requested_by', 'wipe_requested_at']) {
    await db.schema.alterTable('devices').dropColumn(column).execute()
  }
  await db.schema.dropTable('sessions').execute()
  await db.schema
    .createTable('sessions')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('expires_at', 'integer', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute()
  await db.schema.alterTable('users').dropColumn('disabled').execute()
}
