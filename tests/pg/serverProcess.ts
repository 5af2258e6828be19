/**
 * Real server processes over one PostgreSQL schema, for the multi-process test and the bench: `node --import tsx
 * server/index.ts` as in production, each on its own port, all with the same DATABASE_URL.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { PgSyncStore } from '../../server/store/PgSyncStore.ts'
import { startServerProcess, type ServerProcess } from '../fixtures/serverProcess.ts'

export type { ServerProcess }

/** A new empty schema of the database at `url`, and the URL that makes a server use it (search_path). */
export async function freshSchema(
  url: string,
  prefix = 'multi',
): Promise<{
  schema: string
  url: string
  /** A store on the schema, for the test's own reads and setup. */
  store: PgSyncStore
  drop(): Promise<void>
}> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`
  const store = PgSyncStore.open(url, { schema, maxConnections: 2 })
  await sql`create schema ${sql.id(schema)}`.execute(store.kysely)
  const withPath = new URL(url)
  withPath.searchParams.set('options', `-c search_path=${schema}`)
  return {
    schema,
    url: withPath.toString(),
    store,
    async drop() {
      await store.kysely.schema.dropSchema(schema).ifExists().cascade().execute()
      await store.close()
    },
  }
}

/** A server process on `databaseUrl`, with a data directory of its own (photos, logs) removed when it stops. */
export async function startPgServerProcess(
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gridpatrol-pg-'))
  const server = await startServerProcess(dataDir, { DATABASE_URL: databaseUrl, ...env }).catch((error) => {
    rmSync(dataDir, { recursive: true, force: true })
    throw error
  })
  return {
    ...server,
    async stop() {
      await server.stop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
