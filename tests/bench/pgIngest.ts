/**
 * Server ingest and pull on PostgreSQL, beside the SQLite rows of run.ts: the same households (benchHousehold), the
 * same batches and the same in-process server over HTTP, only the store differs. Uses BENCH_DATABASE_URL when set
 * (a fresh schema, dropped after), else a private cluster started for the run; no PostgreSQL installed: one row says
 * so. A second figure pushes through two server processes at once (one device each) over the same database.
 */
import type { AddressInfo } from 'node:net'
import { PROTOCOL_VERSION, MAX_PUSH_OPS, type Op } from '#shared/sync/protocol.ts'
import { TEST_PASSWORD_COST, hashPassword } from '../../server/services/password.ts'
import {
  GRID_A,
  GRID_B,
  PASSWORD,
  TEST_AREAS,
  addUser,
  createOp,
  login,
  pushBody,
  stamp,
  startTestServer,
} from '../fixtures/serverHarness.ts'
import { startPrivateCluster } from '../pg/privateCluster.ts'
import { freshSchema, startPgServerProcess, type ServerProcess } from '../pg/serverProcess.ts'
import { benchHousehold } from './households.ts'

export interface BenchRow {
  name: string
  value: string
  goal: string
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const uuid = (run: string, i: number) => `0190a000-0000-7000-8${run}-${String(i).padStart(12, '0')}`

function households(deviceId: string, records: number, run: string): Op[] {
  return Array.from({ length: records }, (_, i) =>
    createOp(i + 1, uuid(run, i + 1), stamp(i + 1, deviceId), {
      ...benchHousehold(i),
      gridId: i % 2 ? GRID_A : GRID_B,
    }),
  )
}

async function pushAll(base: string, token: string, deviceId: string, ops: Op[]): Promise<void> {
  for (let i = 0; i < ops.length; i += MAX_PUSH_OPS) {
    const response = await fetch(`${base}/api/sync/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(pushBody(deviceId, ops.slice(i, i + MAX_PUSH_OPS))),
    })
    if (!response.ok) throw new Error(`push failed: ${response.status} ${await response.text()}`)
    await response.arrayBuffer()
  }
}

/** One run as run.ts's oneRun does it, on PostgreSQL (null: SQLite): changes/s pushed, records/s pulled. */
async function inProcessRun(url: string | null, records: number): Promise<{ ingest: number; pull: number }> {
  const server = await startTestServer({ databaseUrl: url })
  server.clock.now = Date.now()
  const listener = server.app.listen(0, '127.0.0.1')
  await new Promise((r) => listener.once('listening', r))
  const base = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`
  try {
    await addUser(server, 'bench')
    const deviceId = 'bench-device-1'
    const token = await login(server, 'bench', deviceId)
    const ops = households(deviceId, records, '000')
    const t0 = performance.now()
    await pushAll(base, token, deviceId, ops)
    const ingest = records / ((performance.now() - t0) / 1000)
    const puller = await login(server, 'bench', 'bench-device-2')
    const t1 = performance.now()
    for (let since = 0, more = true; more;) {
      const query = `deviceId=bench-device-2&since=${since}&limit=1000&protocol=${PROTOCOL_VERSION}`
      const response = await fetch(`${base}/api/sync/pull?${query}`, {
        headers: { authorization: `Bearer ${puller}` },
      })
      const text = await response.text()
      if (!response.ok) throw new Error(`pull failed: ${response.status} ${text}`)
      const page = JSON.parse(text) as { cursor: number; more: boolean }
      since = page.cursor
      more = page.more
    }
    return { ingest, pull: records / ((performance.now() - t1) / 1000) }
  } finally {
    listener.close()
    await server.close()
  }
}

/** Two server processes over one database, one device pushing through each at once: total changes/s. */
async function twoProcessRun(url: string, records: number): Promise<number> {
  const schema = await freshSchema(url, 'bench')
  const servers: ServerProcess[] = []
  try {
    await schema.store.migrate()
    await schema.store.insertAreas(TEST_AREAS)
    const passwordHash = await hashPassword(PASSWORD, { cost: TEST_PASSWORD_COST })
    await schema.store.insertUser({
      id: 'bench-user',
      username: 'bench',
      displayName: '压测',
      role: 'worker',
      areaIds: [GRID_A, GRID_B],
      passwordHash,
      createdAt: Date.now(),
    })
    servers.push(...(await Promise.all([startPgServerProcess(schema.url), startPgServerProcess(schema.url)])))
    const devices = await Promise.all(
      servers.map(async (server, n) => {
        const deviceId = `bench-device-${n + 1}`
        const response = await fetch(`${server.url}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'bench', password: PASSWORD, deviceId }),
        })
        if (!response.ok) throw new Error(`login failed: ${response.status}`)
        const { accessToken } = (await response.json()) as { accessToken: string }
        return { server, deviceId, token: accessToken, ops: households(deviceId, records / 2, `00${n + 1}`) }
      }),
    )
    const t0 = performance.now()
    await Promise.all(devices.map((d) => pushAll(d.server.url, d.token, d.deviceId, d.ops)))
    return records / ((performance.now() - t0) / 1000)
  } finally {
    await Promise.all(servers.map((s) => s.stop()))
    await schema.drop()
  }
}

export async function pgIngestRows(records: number, runs: number): Promise<BenchRow[]> {
  const given = process.env.BENCH_DATABASE_URL
  const cluster = given ? null : await startPrivateCluster()
  const url = given ?? cluster?.url
  if (!url) {
    return [{ name: 'server ingest on PostgreSQL', value: 'skipped: PostgreSQL not installed', goal: '' }]
  }
  try {
    // Runs interleaved with SQLite ones, so that both see the same machine (a shared VM drifts within minutes).
    const results: { ingest: number; pull: number }[] = []
    const sqlite: { ingest: number; pull: number }[] = []
    const two: number[] = []
    for (let run = 0; run < runs; run++) {
      sqlite.push(await inProcessRun(null, records))
      results.push(await inProcessRun(url, records))
      two.push(await twoProcessRun(url, records))
    }
    const vsSqlite = (key: 'ingest' | 'pull') =>
      `(SQLite in the same runs: ${Math.round(median(sqlite.map((r) => r[key])))})`
    const where = given ? 'BENCH_DATABASE_URL' : 'a private local cluster, fsync on'
    return [
      {
        name: `server ingest on PostgreSQL (${where}), HTTP push of ${records} new households (batches of ${MAX_PUSH_OPS})`,
        value: `${Math.round(median(results.map((r) => r.ingest)))} changes/s ${vsSqlite('ingest')}`,
        goal: 'beside SQLite (proof issue)',
      },
      {
        name: `server pull on PostgreSQL, ${records} households in pages of 1000 (HTTP, no device)`,
        value: `${Math.round(median(results.map((r) => r.pull)))} records/s ${vsSqlite('pull')}`,
        goal: '',
      },
      {
        name: `server ingest on PostgreSQL through two server processes at once (one device each, ${records / 2} households each)`,
        value: `${Math.round(median(two))} changes/s`,
        goal: '',
      },
    ]
  } finally {
    cluster?.stop()
  }
}
