import { Kysely, Migrator, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import type { Database as Tables } from './database.ts'
import { KyselyOps, POSTGRES_DIALECT } from './KyselyOps.ts'
import { pgMigrationProvider } from './migrations/pg/pgMigrationProvider.ts'
import type { StoreOps, SyncStore } from './SyncStore.ts'

const INT8_OID = 20

/** bigint columns (times in ms, seqs, counts) as numbers, as SQLite gives them: all stay below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
}

export interface PgStoreOptions {
  /** A schema to hold the tables (created when missing); default: the connection's search_path (public). */
  schema?: string
  /** Connections of this process's pool. */
  maxConnections?: number
  /** How the connections name themselves in pg_stat_activity. */
  applicationName?: string
}

/**
 * The PostgreSQL adapter of the store port: the shared Kysely queries (KyselyOps) over a pg Pool. Several server
 * processes may share one database; everything a device relies on across requests (seqs, applied ops, sessions and
 * tokens, login failures, the clock, wipes) is in it.
 *
 * Invariants:
 * - Every transaction first locks the one server_state row (SELECT … FOR UPDATE) and holds it until it commits:
 *   transactions that write run one at a time across all processes, as SQLite's single writer does in one process.
 *   So the read-merge-write of a push sees every earlier commit (READ COMMITTED suffices, nothing is retried), and
 *   server seqs are handed out in commit order: a pull reading `seq > since` can never miss a row that commits later
 *   with a lower seq. Reads outside a transaction (lookups) and in `readTransaction` (pulls) do not wait for the lock.
 * - Lock order is the same for every transaction (the counter row first), so they cannot deadlock each other.
 */
export class PgSyncStore extends KyselyOps implements SyncStore {
  private constructor(
    readonly kysely: Kysely<Tables>,
    private readonly schema: string | undefined,
  ) {
    super(kysely, POSTGRES_DIALECT)
  }

  static open(connectionString: string, options: PgStoreOptions = {}): PgSyncStore {
    if (options.schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(options.schema)) {
      throw new Error(`invalid schema name ${JSON.stringify(options.schema)}`)
    }
    const pool = new pg.Pool({
      connectionString,
      max: options.maxConnections ?? 10,
      types,
      application_name: options.applicationName ?? 'gridpatrol',
      ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
    })
    return new PgSyncStore(new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) }), options.schema)
  }

  /**
   * Bring the schema up to date; throws with the failing migration's name. Kysely's migrator takes an advisory lock,
   * so servers starting at once migrate one after the other.
   */
  async migrate(): Promise<void> {
    if (this.schema !== undefined)
      await sql`create schema if not exists ${sql.id(this.schema)}`.execute(this.kysely)
    // Kysely looks for its migration table in every schema unless told which: name ours (the search_path's first).
    const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(
      this.kysely,
    )
    const schema = rows[0]?.schema
    if (!schema)
      throw new Error('database migration: no schema to create the tables in (check the search_path)')
    const migrator = new Migrator({
      db: this.kysely,
      provider: pgMigrationProvider,
      migrationTableSchema: schema,
    })
    const { error, results } = await migrator.migrateToLatest()
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown'
      throw new Error(`database migration ${failed} failed: ${String(error)}`, { cause: error })
    }
  }

  transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T> {
    return this.kysely.transaction().execute(async (trx) => {
      await sql`select seq from server_state where id = 1 for update`.execute(trx)
      return fn(new KyselyOps(trx, POSTGRES_DIALECT))
    })
  }

  /**
   * A REPEATABLE READ, READ ONLY transaction without the server_state lock: a pull does not wait for pushes. Safe
   * because writers hand out seqs under that lock and commit in seq order, so the commits any snapshot sees are
   * always a contiguous prefix of the seqs: a page read by `seq > since` cannot skip a change that commits later. The
   * snapshot (not READ COMMITTED) keeps a pull's several queries (records, exits, clock) on the same commits.
   */
  readTransaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T> {
    return this.kysely
      .transaction()
      .setIsolationLevel('repeatable read')
      .setAccessMode('read only')
      .execute((trx) => fn(new KyselyOps(trx, POSTGRES_DIALECT)))
  }

  async close(): Promise<void> {
    await this.kysely.destroy()
  }
}
