import { join } from 'node:path'
import { sql } from 'kysely'
import type { Config } from '../config.ts'
import { PgSyncStore } from './PgSyncStore.ts'
import { SqliteSyncStore } from './SqliteSyncStore.ts'

export interface OpenedStore {
  store: SqliteSyncStore | PgSyncStore
  /** Where the data lives, for the log (a PostgreSQL URL without its password). */
  location: string
  /**
   * Run `fn` (migrations, the demo seed) while no other server process on the same database runs its own: several
   * processes starting at once over one PostgreSQL database would otherwise all seed an empty one.
   */
  exclusively<T>(fn: () => Promise<T>): Promise<T>
}

/** An arbitrary key of the PostgreSQL advisory lock held during startup. */
const STARTUP_LOCK = 330_523

/** The store the configuration names: PostgreSQL when DATABASE_URL is set, else the SQLite file in DATA_DIR. */
export function openStore(config: Config, dataDir: string): OpenedStore {
  if (config.databaseUrl === null) {
    const file = join(dataDir, 'gridpatrol.sqlite')
    return { store: SqliteSyncStore.open(file), location: file, exclusively: (fn) => fn() }
  }
  const store = PgSyncStore.open(config.databaseUrl, {
    maxConnections: config.databasePoolSize,
    applicationName: `gridpatrol ${process.pid}`,
  })
  const url = new URL(config.databaseUrl)
  url.password = ''
  return {
    store,
    location: url.toString(),
    exclusively: (fn) =>
      store.kysely.connection().execute(async (db) => {
        await sql`select pg_advisory_lock(${STARTUP_LOCK})`.execute(db)
        try {
          return await fn()
        } finally {
          await sql`select pg_advisory_unlock(${STARTUP_LOCK})`.execute(db)
        }
      }),
  }
}
