import { sql } from 'kysely'
import type { Kysely } from 'kysely'

const RECORD_COLUMNS =
  'id, kind, grid_id, village_id, town_id, county_id, fields, stamps, deleted, seq, created_at, updated_at'

/**
 * Field capture: records of every kind, and the photos whose bytes were uploaded.
 *
 * 001 limited `records.kind` with a CHECK to the first three kinds; SQLite cannot drop a CHECK, so the table is
 * rebuilt (the documented 12-step way: foreign keys off, copy, drop, rename, re-index, foreign_key_check). The new
 * table has no CHECK on kind: the zod schemas at the edge are the one list of kinds, so a new kind needs no rebuild.
 * Kysely runs SQLite migrations outside a transaction on its one connection, which is what lets the pragma act.
 *
 * `photos` holds what the server has of a photo's bytes (the file lives under DATA_DIR/photos); `complete` is 0
 * while chunks are still arriving. Who may see a photo is decided by the photo records (kind 'photo'), not here.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`pragma foreign_keys = off`.execute(db)
  try {
    await db.transaction().execute(async (trx) => {
      await trx.schema
        .createTable('records_new')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
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
      await sql
        .raw(`insert into records_new (${RECORD_COLUMNS}) select ${RECORD_COLUMNS} from records`)
        .execute(trx)
      await trx.schema.dropTable('records').execute()
      await sql`alter table records_new rename to records`.execute(trx)
      await trx.schema.createIndex('records_seq').on('records').column('seq').unique().execute()
      for (const column of ['grid_id', 'village_id', 'town_id', 'county_id']) {
        await trx.schema.createIndex(`records_${column}_seq`).on('records').columns([column, 'seq']).execute()
      }
      /** Photo records by their sha256: the scope check of GET /api/photos/:sha256. */
      await sql`create index records_photo_sha on records (json_extract(fields, '$.sha256')) where kind = 'photo'`.execute(
        trx,
      )
      const broken = await sql`pragma foreign_key_check`.execute(trx)
      if (broken.rows.length > 0) throw new Error(`foreign key check failed: ${JSON.stringify(broken.rows)}`)

      await trx.schema
        .createTable('photos')
        .addColumn('sha256', 'text', (c) => c.primaryKey())
        .addColumn('bytes', 'integer', (c) => c.notNull())
        .addColumn('mime', 'text')
        .addColumn('width', 'integer')
        .addColumn('height', 'integer')
        .addColumn('created_at', 'integer', (c) => c.notNull())
        .addColumn('uploaded_by', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('complete', 'integer', (c) => c.notNull().defaultTo(0))
        .execute()
    })
  } finally {
    await sql`pragma foreign_keys = on`.execute(db)
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('photos').execute()
}
