import { sql } from 'kysely'
import type { Kysely } from 'kysely'

/**
 * A record's history keeps one row per op (its field writes together, as JSON) instead of one row per field write.
 * Why: a household op writes about twenty fields, so a push of 10,000 households wrote 200,000 history rows with
 * their unique index; the disk sync of each push and the insert work were mostly that. An op's writes share their
 * stamp, device, user, seq and time anyway. `writes` maps each field to {v: value, b: base stamp, c: delete context}.
 * The existing history is folded in, op by op, in its order.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('op_writes')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('record_id', 'text', (c) => c.notNull().references('records.id'))
    .addColumn('stamp', 'text', (c) => c.notNull())
    .addColumn('writes', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('server_seq', 'integer', (c) => c.notNull())
    .addColumn('received_at', 'integer', (c) => c.notNull())
    .addUniqueConstraint('op_writes_unique', ['record_id', 'stamp'])
    .execute()
  await sql`
    insert into op_writes (record_id, stamp, writes, device_id, user_id, server_seq, received_at)
    select record_id, stamp,
           json_group_object(field, json_object('v', json(value), 'b', base, 'c', json(context))),
           min(device_id), min(user_id), min(server_seq), min(received_at)
    from (select * from field_writes order by id)
    group by record_id, stamp
    order by min(id)`.execute(db)
  await db.schema.dropTable('field_writes').execute()
}

export async function down(): Promise<void> {
  throw new Error('006_op_writes cannot be undone: restore the backup taken before the upgrade')
}
