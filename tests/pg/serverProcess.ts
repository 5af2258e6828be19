/**
 * Real server processes over one PostgreSQL schema, for the multi-process test and the bench: `node --import tsx
 * server/index.ts` as in production, each on its own port, all with the same DATABASE_URL.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { sql } from 'kysely'
import { PgSyncStore } from '../../server/store/PgSyncStore.ts'

const ROOT = resolve(import.meta.dirname, '../..')

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

export interface ServerProcess {
  url: string
  /** What the process printed (for a failure message). */
  output(): string
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer()
    probe.once('error', fail)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() =>
        typeof address === 'object' && address ? done(address.port) : fail(new Error('no port')),
      )
    })
  })
}

/** Start a server process on `databaseUrl` and wait until it answers /api/health. */
export async function startServerProcess(
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gridpatrol-pg-'))
  const port = await freePort()
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'server/index.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      BASEMAP_URL: '',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const url = `http://127.0.0.1:${port}`
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))])
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
    rmSync(dataDir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) {
      await stop()
      throw new Error(`server exited early:\n${output}`)
    }
    try {
      if ((await fetch(`${url}/api/health`)).ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`server did not start:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  return { url, output: () => output, stop }
}
