import { sql } from 'kysely'
import type { Kysely } from 'kysely'

/**
 * Leaders' decisions about conflicts (冲突处理), keyed by the losing write (record, field, loser stamp) rather than by
 * a conflict row: conflict rows are recomputed from the record's whole history on every op, and a losing write stays
 * a leaf of its field's history for good, so a decision stored on the row alone could come back as a fresh open row
 * (or be lost with a row a restore made moot). A decision is written once and never changed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('conflict_resolutions')
    .addColumn('record_id', 'text', (c) => c.notNull().references('records.id'))
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('loser_stamp', 'text', (c) => c.notNull())
    .addColumn('decision', 'text', (c) => c.notNull().check(sql`decision in ('keep', 'restored')`))
    .addColumn('resolved_by', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('resolved_at', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('conflict_resolutions_pk', ['record_id', 'field', 'loser_stamp'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('conflict_resolutions').execute()
}
