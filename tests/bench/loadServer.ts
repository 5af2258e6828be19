/**
 * A bench server in its own process (so the clients' work does not share its event loop or its core, as with a real
 * server): a test server (a fresh temporary SQLite file, the real createApp). For the load run, one grid and one
 * logged-in worker per phone (LOAD_DEVICES); for the ingest row (LOAD_BENCH_USER=1), the worker `bench` of the test
 * grids logged in on a pushing and a pulling device. LOAD_WARMUP=n first pushes n households into it (see warmUp).
 * Prints one JSON line (LoadServerReady) and serves until its parent closes stdin.
 */
import type { AddressInfo } from 'node:net'
import { MAX_PUSH_OPS } from '#shared/sync/protocol.ts'
import {
  GRID_C,
  TEST_AREAS,
  VILLAGE,
  addUser,
  createOp,
  login,
  pushBody,
  square,
  stamp,
  startTestServer,
} from '../fixtures/serverHarness.ts'
import { benchHousehold } from './households.ts'

export interface LoadPhone {
  id: string
  gridId: string
  token: string
}

/** The ingest row's devices (LOAD_BENCH_USER=1): the same user, one pushes, the other pulls. */
export interface BenchDevices {
  pushDeviceId: string
  pushToken: string
  pullDeviceId: string
  pullToken: string
}

/** The line the server prints once it serves. */
export interface LoadServerReady {
  port: number
  phones: LoadPhone[]
  bench: BenchDevices | null
  /** LOAD_WARMUP's pushes: how many households, at what rate (into the fresh file, on code not yet optimised). */
  warmedUp: { households: number; perSecond: number } | null
}

const devices = Number(process.env.LOAD_DEVICES ?? 500)
const warmup = Number(process.env.LOAD_WARMUP ?? 0)

/**
 * Push `records` households over HTTP into this server, as the user `warmup` of a grid nobody else here covers
 * (GRID_C): the timed pushes then meet what a server that has been running has, compiled code, its connection's
 * prepared statements, a database and a WAL that already exist, and none of these records reach the bench's pulls.
 */
async function warmUp(url: string, records: number): Promise<{ households: number; perSecond: number }> {
  await addUser(server, 'warmup', 'worker', [GRID_C])
  const token = await login(server, 'warmup', 'warmup-device')
  const started = performance.now()
  for (let first = 0; first < records; first += MAX_PUSH_OPS) {
    const ops = Array.from({ length: Math.min(MAX_PUSH_OPS, records - first) }, (_, k) => {
      const i = first + k
      const id = `0190a000-0000-7000-8fff-${String(i + 1).padStart(12, '0')}`
      return createOp(i + 1, id, stamp(i + 1, 'warmup-device'), { ...benchHousehold(i), gridId: GRID_C })
    })
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(pushBody('warmup-device', ops)),
    })
    if (!response.ok) throw new Error(`warm-up push failed: ${response.status} ${await response.text()}`)
    await response.arrayBuffer()
  }
  return { households: records, perSecond: records / ((performance.now() - started) / 1000) }
}

// One grid per phone, side by side under one village.
const grids = Array.from({ length: devices }, (_, i) => ({
  id: `${VILLAGE}${String(100 + i).padStart(3, '0')}`,
  level: 'grid' as const,
  name: `负载网格 ${i}`,
  parentId: VILLAGE,
  geometry: square(118 + (i % 40) * 0.02, 29 + Math.floor(i / 40) * 0.02),
  centroid: null,
}))
const server = await startTestServer({ areas: [...TEST_AREAS, ...grids] })
Object.defineProperty(server.clock, 'now', { get: () => Date.now() })
const phones: LoadPhone[] = []
for (const [i, grid] of grids.entries()) {
  await addUser(server, `load${i}`, 'worker', [grid.id])
  const id = `loaddevice-${i}`
  phones.push({ id, gridId: grid.id, token: await login(server, `load${i}`, id) })
}
let bench: BenchDevices | null = null
if (process.env.LOAD_BENCH_USER === '1') {
  await addUser(server, 'bench')
  const [pushDeviceId, pullDeviceId] = ['bench-device-1', 'bench-device-2']
  bench = {
    pushDeviceId,
    pushToken: await login(server, 'bench', pushDeviceId),
    pullDeviceId,
    pullToken: await login(server, 'bench', pullDeviceId),
  }
}
const listener = server.app.listen(0, '127.0.0.1')
await new Promise((r) => listener.once('listening', r))
const port = (listener.address() as AddressInfo).port
const warmedUp = warmup > 0 ? await warmUp(`http://127.0.0.1:${port}/api/sync/push`, warmup) : null
process.stdout.write(`${JSON.stringify({ port, phones, bench, warmedUp } satisfies LoadServerReady)}\n`)

const stop = async () => {
  listener.close()
  await server.close()
  process.exit(0)
}
process.stdin.on('end', () => void stop())
process.stdin.on('close', () => void stop())
process.stdin.resume()
