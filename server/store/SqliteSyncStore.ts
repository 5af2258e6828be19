import Database from 'better-sqlite3'
import { Kysely, Migrator, SqliteDialect, type SqliteDatabase } from 'kysely'
import type { Database as Tables } from './database.ts'
import { createGroupCommit, type GroupCommit } from './groupCommit.ts'
import { KyselyOps, SQLITE_DIALECT } from './KyselyOps.ts'
import { migrationProvider } from './migrations/migrationProvider.ts'
import { SqliteOps, prepareHotStatements, type HotStatements } from './SqliteOps.ts'
import { WalCheckpointer } from './WalCheckpointer.ts'
import type { StoreOps, SyncStore } from './SyncStore.ts'

/**
 * better-sqlite3 compiles a statement on every `prepare`, and Kysely prepares one per query: keep them by their SQL
 * text (a few hundred distinct queries at most) so that each is compiled once per process.
 */
function withStatementCache(sqlite: Database.Database, max = 1000): SqliteDatabase {
  const statements = new Map<string, Database.Statement>()
  return {
    close: () => sqlite.close(),
    prepare(source) {
      let statement = statements.get(source)
      if (!statement) {
        if (statements.size >= max) statements.delete(statements.keys().next().value as string)
        statement = sqlite.prepare(source)
        statements.set(source, statement)
      }
      return statement
    },
  }
}
/**
 * The SQLite adapter of the store port: Kysely over one better-sqlite3 connection.
 * WAL with synchronous=FULL: a push that was answered survives a power cut. Kysely serialises the single
 * connection, so a transaction holds it until it ends and concurrent requests queue behind it; transactions that
 * queue together share a COMMIT.
 */
export class SqliteSyncStore extends KyselyOps implements SyncStore {
  private readonly group: GroupCommit<Tables>
  /** Prepared on the first transaction (the migrations must have made the tables first). */
  private hot: HotStatements | null = null
  /** Checkpoints the WAL in a worker thread once it has grown (see WalCheckpointer.ts). */
  readonly checkpointer: WalCheckpointer

  private constructor(
    readonly kysely: Kysely<Tables>,
    private readonly sqlite: Database.Database,
  ) {
    super(kysely, SQLITE_DIALECT)
    this.group = createGroupCommit(kysely)
    this.checkpointer = new WalCheckpointer(sqlite.name, (pages) => {
      sqlite.pragma(`wal_autocheckpoint = ${pages}`)
    })
  }

  static open(file: string): SqliteSyncStore {
    const sqlite = new Database(file)
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('synchronous = FULL')
    sqlite.pragma('foreign_keys = ON')
    sqlite.pragma('busy_timeout = 5000')
    // The group commit runs each transaction in a SAVEPOINT, and SQLite keeps the original of every page changed
    // under a savepoint in a sub-journal, by default a temporary file: in memory, a push's writes cost half as much.
    // It holds the pages one transaction changes (a push of 500 households: a few MB at most) until it ends.
    sqlite.pragma('temp_store = MEMORY')
    return new SqliteSyncStore(
      new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) }),
      sqlite,
    )
  }

  /** Bring the schema up to date; throws with the failing migration's name. */
  async migrate(): Promise<void> {
    const migrator = new Migrator({ db: this.kysely, provider: migrationProvider })
    const { error, results } = await migrator.migrateToLatest()
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown'
      throw new Error(`database migration ${failed} failed: ${String(error)}`, { cause: error })
    }
  }

  /** Transactions waiting together share one COMMIT (one disk sync): see groupCommit.ts. */
  transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T> {
    const result = this.group.transaction((trx) => {
      this.hot ??= prepareHotStatements(this.sqlite)
      return fn(new SqliteOps(trx, this.hot))
    })
    return result.finally(() => this.checkpointer.afterCommit())
  }

  /** The one connection's transaction: a read-only one costs no disk sync, and SQLite has a single writer anyway. */
  readTransaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T> {
    return this.transaction(fn)
  }

  async close(): Promise<void> {
    await this.checkpointer.stop()
    await this.kysely.destroy()
  }
}
