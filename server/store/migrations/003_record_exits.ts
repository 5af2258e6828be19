import type { Kysely } from 'kysely'

/**
 * Where records left: when an edit moves a record to another grid, the scope it left is kept under the record's new
 * server seq, so a pull can tell the phones that covered only the old scope to drop it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('record_exits')
    .addColumn('seq', 'integer', (c) => c.primaryKey())
    .addColumn('record_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('grid_id', 'text', (c) => c.notNull())
    .addColumn('village_id', 'text', (c) => c.notNull())
    .addColumn('town_id', 'text', (c) => c.notNull())
    .addColumn('county_id', 'text', (c) => c.notNull())
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('record_exits').execute()
}
