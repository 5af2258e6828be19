/**
 * The initial pull beside its peer (proof issue): N households into a fresh Chromium device, three ways, each in a
 * fresh browser profile, in one run on one machine:
 * - ours: the bench page, served by the real app (same origin, as the PWA is), runs the app's own sync engine, HTTP
 *   transport and Dexie store against a server whose SQLite file holds the N households (pushed over HTTP first);
 * - PouchDB: pouchdb-browser on its IndexedDB adapter runs `replicate.from` an express-pouchdb server (CouchDB's
 *   replication API over PouchDB in memory, the peer at its fastest) that holds the same N households as documents;
 * - the ceiling: the same pull pages put with the bare IndexedDB API, no network, no index, no merge;
 * - the ceiling of a store that lists its records: the same households in the device's record shape put with the
 *   bare API into a store with the device's record indexes (what every put of ours also pays).
 * Bytes on the wire are the API's response bodies as the server sends them (both servers compress with the same
 * `compression` middleware, which answers Chromium with brotli), and the same bodies decoded and regzipped, per record.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { extname, join, resolve } from 'node:path'
import { brotliDecompressSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib'
import { build } from 'vite'
import { openDevice } from '../e2e/harness.ts'
import { benchHousehold } from './households.ts'
import {
  addUser,
  createOp,
  GRID_A,
  GRID_B,
  login,
  loginSession,
  pushBody,
  stamp,
  startTestServer,
} from '../fixtures/serverHarness.ts'
import { MAX_PUSH_OPS } from '#shared/sync/protocol.ts'

/** What the wire carried for one pull: response bodies of the API (not the page's own files). */
export interface WireCount {
  requests: number
  /** As sent: compressed with the encoding the browser accepted. */
  encoded: number
  /** Decoded: the JSON itself. */
  raw: number
  /** The decoded bodies gzipped again one by one (zlib's default level, as the `compression` middleware's gzip). */
  gzip: number
  encodings: string[]
  /** Summed time from each request's arrival to its response's last byte handed to the socket. */
  serverSeconds: number
}

export interface PullSide {
  seconds: number
  rate: number
  wire: WireCount
}

export interface PullComparison {
  n: number
  /** Each figure is the median of this many runs. */
  runs: number
  ours: PullSide & { transportSeconds: number; storeSeconds: number }
  pouch: PullSide & { adapter: string }
  rawRate: number
  /** The bare API into a store with the device's record indexes (named). */
  rawIndexed: { rate: number; indexes: string[] }
}

/** Households exactly as both servers hold them: the user's two grids, alternating. */
const household = (i: number) => ({ ...benchHousehold(i), gridId: i % 2 ? GRID_A : GRID_B })
const medianBy = <T>(xs: readonly T[], key: (x: T) => number): T =>
  [...xs].sort((a, b) => key(a) - key(b))[Math.floor(xs.length / 2)]!
const uuid = (i: number) => `0190a000-0000-7000-8000-${String(i).padStart(12, '0')}`

type Handler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void

/**
 * Records the bodies of responses under `prefix` as they leave through the socket. It wraps `res.write`/`res.end`
 * before any middleware runs, so a compression middleware further in writes its compressed output through it.
 * Decoding and regzipping wait for `count()`, outside the timed pull.
 */
export function wireMeter(prefix: string) {
  let bodies: { encoding: string; chunks: Buffer[]; ms: number }[] = []
  let on = false
  const toBuffer = (chunk: unknown, encoding: unknown): Buffer | null =>
    typeof chunk === 'string'
      ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
      : chunk instanceof Uint8Array
        ? Buffer.from(chunk)
        : null
  return {
    start() {
      bodies = []
      on = true
    },
    stop() {
      on = false
    },
    watch(req: IncomingMessage, res: ServerResponse) {
      if (!on || !req.url?.startsWith(prefix)) return
      const body = { encoding: 'identity', chunks: [] as Buffer[], ms: 0 }
      bodies.push(body)
      const arrived = performance.now()
      res.once('finish', () => (body.ms = performance.now() - arrived))
      const write = res.write.bind(res) as (...args: unknown[]) => boolean
      const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse
      res.write = ((chunk: unknown, ...rest: unknown[]) => {
        const buffer = toBuffer(chunk, rest[0])
        if (buffer) body.chunks.push(buffer)
        return write(chunk, ...rest)
      }) as typeof res.write
      res.end = ((chunk?: unknown, ...rest: unknown[]) => {
        const buffer = toBuffer(chunk, rest[0])
        if (buffer) body.chunks.push(buffer)
        body.encoding = String(res.getHeader('content-encoding') ?? 'identity')
        return end(chunk, ...rest)
      }) as typeof res.end
    },
    count(): WireCount {
      const total: WireCount = {
        requests: bodies.length,
        encoded: 0,
        raw: 0,
        gzip: 0,
        encodings: [],
        serverSeconds: 0,
      }
      for (const { encoding, chunks, ms } of bodies) {
        total.serverSeconds += ms / 1000
        const sent = Buffer.concat(chunks)
        const decoded =
          encoding === 'br'
            ? brotliDecompressSync(sent)
            : encoding === 'gzip'
              ? gunzipSync(sent)
              : encoding === 'deflate'
                ? inflateSync(sent)
                : sent
        total.encoded += sent.length
        total.raw += decoded.length
        total.gzip += decoded.length > 0 ? gzipSync(decoded).length : 0
        if (!total.encodings.includes(encoding)) total.encodings.push(encoding)
      }
      return total
    },
  }
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' }

function serveFile(dir: string, req: IncomingMessage, res: ServerResponse) {
  const path = join(dir, req.url === '/' || !req.url ? 'index.html' : req.url.split('?')[0]!)
  readFile(path).then(
    (body) =>
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body),
    () => res.writeHead(404).end(),
  )
}

export async function listen(handler: Handler): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => handler(req, res))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

interface PouchDatabase {
  bulkDocs(docs: object[]): Promise<{ error?: unknown }[]>
  destroy(): Promise<unknown>
}
interface PouchConstructor {
  new (name: string): PouchDatabase
  plugin(plugin: unknown): PouchConstructor
  defaults(options: object): PouchConstructor
}

/** The peer's server: express-pouchdb (the routes PouchDB replication needs) over PouchDB's in-memory adapter. */
export function pouchServer(dist: string, meter: ReturnType<typeof wireMeter>) {
  const require = createRequire(import.meta.url)
  const core = require('pouchdb-core') as PouchConstructor
  const MemoryPouch = core.plugin(require('pouchdb-adapter-memory')).defaults({ adapter: 'memory' })
  const expressPouchdb = require('express-pouchdb') as (
    pouch: PouchConstructor,
    options: { mode: string },
  ) => Handler
  // 'minimumForPouchDB' includes express-pouchdb's own `compression` middleware (the same package as our server's).
  const couch = expressPouchdb(MemoryPouch, { mode: 'minimumForPouchDB' })
  const handler: Handler = (req, res) => {
    meter.watch(req, res)
    if (req.url?.startsWith('/couch/')) {
      req.url = req.url.slice('/couch'.length)
      couch(req, res)
    } else serveFile(dist, req, res)
  }
  return { MemoryPouch, handler }
}

async function seedPouch(MemoryPouch: PouchConstructor, name: string, n: number) {
  const db = new MemoryPouch(name)
  for (let start = 0; start < n; start += 1000) {
    const docs = []
    for (let i = start; i < Math.min(n, start + 1000); i++)
      docs.push({ _id: uuid(i + 1), kind: 'household', ...household(i) })
    const results = await db.bulkDocs(docs)
    if (results.some((r) => r.error)) throw new Error('seeding the PouchDB server failed')
  }
  return db
}

/**
 * Run `fn` in the bench page of a fresh Chromium profile opened at `origin`. With BENCH_PULL_PROFILE=<dir>, the
 * page's CPU profile during `fn` is written there as `<label>.cpuprofile` (open it in Chromium's DevTools).
 */
export async function inFreshDevice<T>(
  label: string,
  origin: string,
  fn: (page: Awaited<ReturnType<typeof openDevice>>['page']) => Promise<T>,
) {
  const device = await openDevice()
  try {
    await device.page.goto(`${origin}/`)
    await device.page.waitForFunction(() => 'gridpatrolBench' in window)
    const profileDir = process.env.BENCH_PULL_PROFILE
    if (!profileDir) return await fn(device.page)
    const cdp = await device.context.newCDPSession(device.page)
    await cdp.send('Profiler.enable')
    await cdp.send('Profiler.setSamplingInterval', { interval: 500 })
    await cdp.send('Profiler.start')
    const result = await fn(device.page)
    const { profile } = await cdp.send('Profiler.stop')
    mkdirSync(profileDir, { recursive: true })
    writeFileSync(join(profileDir, `${label}.cpuprofile`), JSON.stringify(profile))
    return result
  } finally {
    await device.close()
  }
}

async function compareAt(
  n: number,
  dist: string,
  pouchBatchSize: number,
  pouch: ReturnType<typeof pouchServer>,
  pouchOrigin: string,
  pouchMeter: ReturnType<typeof wireMeter>,
  runs: number,
): Promise<PullComparison> {
  // Ours: a fresh server and SQLite file, N households pushed over HTTP by another device of the same user.
  const server = await startTestServer({ staticDir: dist })
  Object.defineProperty(server.clock, 'now', { get: () => Date.now() })
  const ourMeter = wireMeter('/api/')
  const ours = await listen((req, res) => {
    ourMeter.watch(req, res)
    server.app(req, res)
  })
  const pouchName = `households-${n}-${Date.now()}`
  const pouchDb = await seedPouch(pouch.MemoryPouch, pouchName, n)
  try {
    await addUser(server, 'puller')
    const token = await login(server, 'puller', 'benchseeddevice01')
    const at = stamp(Date.now() - 60_000, 'benchseeddevice01')
    for (let start = 0; start < n; start += MAX_PUSH_OPS) {
      const ops = []
      for (let i = start; i < Math.min(n, start + MAX_PUSH_OPS); i++)
        ops.push(createOp(i + 1, uuid(i + 1), at, household(i)))
      const response = await fetch(`${ours.origin}/api/sync/push`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(pushBody('benchseeddevice01', ops)),
      })
      if (!response.ok) throw new Error(`seeding failed: ${response.status} ${await response.text()}`)
      await response.arrayBuffer()
    }

    const rawSeconds: number[] = []
    const rawIndexedRuns: { seconds: number; indexes: string[] }[] = []
    const ourPulls: Awaited<ReturnType<Window['gridpatrolBench']['pullRun']>>[] = []
    const pouchPulls: Awaited<ReturnType<Window['gridpatrolBench']['pouchRun']>>[] = []
    let ourWire: WireCount | null = null
    let pouchWire: WireCount | null = null
    // Each run: the ceilings, ours, PouchDB, one after the other, so that a noisy neighbour hits them all alike.
    for (let run = 1; run <= runs; run++) {
      const raw = await inFreshDevice(`raw-${n}-${run}`, pouchOrigin, (page) =>
        page.evaluate((count) => window.gridpatrolBench.rawRun(count), n),
      )
      rawSeconds.push(raw.seconds)
      rawIndexedRuns.push(
        await inFreshDevice(`raw-indexed-${n}-${run}`, pouchOrigin, (page) =>
          page.evaluate((count) => window.gridpatrolBench.rawIndexedRun(count), n),
        ),
      )

      const deviceId = `benchpulldevice${String(run).padStart(2, '0')}`
      const session = await loginSession(server, 'puller', deviceId)
      ourMeter.start()
      const ourPull = await inFreshDevice(`ours-${n}-${run}`, ours.origin, (page) =>
        page.evaluate((options) => window.gridpatrolBench.pullRun(options), { session, deviceId }),
      )
      ourMeter.stop()
      if (ourPull.stored !== n) throw new Error(`ours stored ${ourPull.stored} of ${n} households`)
      ourPulls.push(ourPull)
      ourWire ??= ourMeter.count()

      pouchMeter.start()
      const pouchPull = await inFreshDevice(`pouchdb-${n}-${run}`, pouchOrigin, (page) =>
        page.evaluate((options) => window.gridpatrolBench.pouchRun(options), {
          url: `${pouchOrigin}/couch/${pouchName}`,
          batchSize: pouchBatchSize,
        }),
      )
      pouchMeter.stop()
      if (pouchPull.stored !== n) throw new Error(`PouchDB stored ${pouchPull.stored} of ${n} documents`)
      pouchPulls.push(pouchPull)
      pouchWire ??= pouchMeter.count()
    }

    // The median run of each side (its own details with it).
    const ourPull = medianBy(ourPulls, (r) => r.seconds)
    const pouchPull = medianBy(pouchPulls, (r) => r.seconds)
    return {
      n,
      runs,
      ours: {
        seconds: ourPull.seconds,
        rate: n / ourPull.seconds,
        wire: ourWire!,
        transportSeconds: ourPull.transportSeconds,
        storeSeconds: ourPull.storeSeconds,
      },
      pouch: {
        seconds: pouchPull.seconds,
        rate: n / pouchPull.seconds,
        wire: pouchWire!,
        adapter: pouchPull.adapter,
      },
      rawRate: n / medianBy(rawSeconds, (x) => x),
      rawIndexed: {
        rate: n / medianBy(rawIndexedRuns, (r) => r.seconds).seconds,
        indexes: rawIndexedRuns[0]!.indexes,
      },
    }
  } finally {
    ours.server.close()
    await server.close()
    await pouchDb.destroy()
  }
}

/**
 * Build the bench page and compare the initial pulls at each size, `runs` times each (medians). PouchDB replicates
 * in batches of `pouchBatchSize` documents (ours pulls pages of 1,000: the same by default).
 */
export async function pullComparison(
  sizes: readonly number[],
  options: { pouchBatchSize?: number; runs?: number } = {},
): Promise<PullComparison[]> {
  const { pouchBatchSize = 1000, runs = 1 } = options
  await build({ configFile: resolve(import.meta.dirname, 'vite.config.ts') })
  // A copy outside the dot-folder: Express will not send files from a path with a dot-directory in it.
  const dist = mkdtempSync(join(tmpdir(), 'gridpatrol-bench-pull-'))
  cpSync(resolve(import.meta.dirname, '../../node_modules/.bench-dist'), dist, { recursive: true })
  const pouchMeter = wireMeter('/couch/')
  const pouch = pouchServer(dist, pouchMeter)
  const peer = await listen(pouch.handler)
  try {
    const results: PullComparison[] = []
    for (const n of sizes)
      results.push(await compareAt(n, dist, pouchBatchSize, pouch, peer.origin, pouchMeter, runs))
    return results
  } finally {
    peer.server.close()
    rmSync(dist, { recursive: true, force: true })
  }
}
