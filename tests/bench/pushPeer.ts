/**
 * The push direction of the wire-bytes row beside its peer (proof issue): N households created offline on a fresh
 * Chromium device, then pushed, two ways, each in a fresh browser profile, in one run on one machine:
 * - ours: the bench page, served by the real app (same origin, as the PWA is), captures them through the app's record
 *   repository and its own sync engine, HTTP transport and API client push them to the real server (SQLite file);
 * - PouchDB: pouchdb-browser writes the same households as documents into its IndexedDB adapter, then runs
 *   `replicate.to` an express-pouchdb server (over in-memory PouchDB) until the replication completes.
 * Both are counted the same way, at the server, before any route: every request under the API's prefix during the
 * run (ours: the pushes and the pull that ends the sync; PouchDB: the database check, revs_diff, bulk_docs,
 * checkpoints, all of it), its body as it arrived (the bytes on the wire), decoded, and the decoded body gzipped one by
 * one. Our HTTP transport gzips push bodies (Content-Encoding: gzip, the browser's CompressionStream; bodies under
 * 1 KB, e.g. the pull's, go plain), so ours "as sent" is those gzipped bytes; PouchDB's client sends plain JSON, so
 * its "as sent" is the JSON, and its gzip figure is what it would send if it compressed. Request headers are not
 * counted.
 */
import type { IncomingMessage } from 'node:http'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { gunzipSync, gzipSync, inflateSync, brotliDecompressSync } from 'node:zlib'
import { build } from 'vite'
import { GRID_A, GRID_B, addUser, loginSession, startTestServer } from '../fixtures/serverHarness.ts'
import { MAX_PUSH_OPS } from '#shared/sync/protocol.ts'
import { inFreshDevice, listen, pouchServer, wireMeter } from './pullPeer.ts'

/** What a device sent: the request bodies of the API, as the server received them. */
export interface SentCount {
  requests: number
  /** Requests with a body (POST/PUT). */
  withBody: number
  /** Bodies as they arrived, with whatever content-encoding the client used (ours: gzip on pushes; PouchDB: none). */
  sent: number
  /** The bodies decoded: the JSON itself. */
  raw: number
  /** The decoded bodies gzipped one by one (zlib's default level). */
  gzip: number
  encodings: string[]
  /** Requests by method and path (ids and query strings cut), e.g. `POST /_bulk_docs: 10`. */
  byRoute: Record<string, number>
}

export interface PushSide {
  seconds: number
  sent: SentCount
}

export interface PushComparison {
  n: number
  pouchBatchSize: number
  ours: PushSide & { pushSeconds: number; applied: number }
  pouch: PushSide & { written: number }
}

/**
 * Records the bodies of requests under `prefix`. It observes the request's `data` events by wrapping `emit` (adding a
 * listener would switch the stream to flowing before the body parser is attached, and lose the first chunks), so
 * every byte a route reads is counted, as the route reads it. A route that never reads its body counts nothing.
 */
function requestMeter(prefix: string) {
  let bodies: {
    route: string
    encoding: string
    chunks: Buffer[]
    hasBody: boolean
    declared: number | null
  }[] = []
  let on = false
  return {
    start() {
      bodies = []
      on = true
    },
    stop() {
      on = false
    },
    watch(req: IncomingMessage) {
      if (!on || !req.url?.startsWith(prefix)) return
      const path = req.url.slice(prefix.length).split('?')[0]!
      // One route per kind of request: database names, document ids and checkpoint ids vary from run to run.
      const route = `${req.method} ${path.replace(/^[^/]+/, '').replace(/\/_local\/.*/, '/_local/…') || '/'}`
      const body = {
        route: prefix === '/api/' ? `${req.method} /api/${path}` : route,
        encoding: String(req.headers['content-encoding'] ?? 'identity'),
        chunks: [] as Buffer[],
        declared: req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']),
        hasBody:
          Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined,
      }
      bodies.push(body)
      const emit = req.emit.bind(req) as (event: string | symbol, ...args: unknown[]) => boolean
      req.emit = ((event: string | symbol, ...args: unknown[]) => {
        if (event === 'data') {
          const chunk = args[0]
          body.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array))
        }
        return emit(event, ...args)
      }) as typeof req.emit
    },
    count(): SentCount {
      const total: SentCount = {
        requests: bodies.length,
        withBody: 0,
        sent: 0,
        raw: 0,
        gzip: 0,
        encodings: [],
        byRoute: {},
      }
      for (const { route, encoding, chunks, hasBody, declared } of bodies) {
        const sent = Buffer.concat(chunks)
        if (declared !== null && declared !== sent.length)
          console.warn(`push wire: ${route} declared ${declared} bytes, ${sent.length} were read`)
        const decoded =
          encoding === 'br'
            ? brotliDecompressSync(sent)
            : encoding === 'gzip'
              ? gunzipSync(sent)
              : encoding === 'deflate'
                ? inflateSync(sent)
                : sent
        if (hasBody) total.withBody++
        total.sent += sent.length
        total.raw += decoded.length
        total.gzip += decoded.length > 0 ? gzipSync(decoded).length : 0
        total.byRoute[route] = (total.byRoute[route] ?? 0) + 1
        if (!total.encodings.includes(encoding)) total.encodings.push(encoding)
      }
      return total
    },
  }
}

/** The user's two grids, alternating, as the pull comparison seeds them (household i is in GRIDS[i % 2]). */
const GRIDS = [GRID_B, GRID_A]

/**
 * Build the bench page and push N offline-created households, ours then PouchDB's (replicating in batches of
 * `pouchBatchSize` documents; ours pushes batches of MAX_PUSH_OPS), counting what each device sends.
 */
export async function pushComparison(
  n: number,
  options: { pouchBatchSize?: number } = {},
): Promise<PushComparison> {
  const { pouchBatchSize = 1000 } = options
  await build({ configFile: resolve(import.meta.dirname, 'vite.config.ts') })
  // A copy outside the dot-folder: Express will not send files from a path with a dot-directory in it.
  const dist = mkdtempSync(join(tmpdir(), 'gridpatrol-bench-push-'))
  cpSync(resolve(import.meta.dirname, '../../node_modules/.bench-dist'), dist, { recursive: true })

  const server = await startTestServer({ staticDir: dist })
  // The server's clock follows real time, as the device's does (stamps too far ahead are refused).
  Object.defineProperty(server.clock, 'now', { get: () => Date.now() })
  const ourMeter = requestMeter('/api/')
  const ours = await listen((req, res) => {
    ourMeter.watch(req)
    server.app(req, res)
  })
  const pouchMeter = requestMeter('/couch/')
  // The pull comparison's response meter stays off: only request bodies are counted here.
  const pouch = pouchServer(dist, wireMeter('/couch/'))
  const peer = await listen((req, res) => {
    pouchMeter.watch(req)
    pouch.handler(req, res)
  })
  const pouchName = `pushed-${n}-${Date.now()}`
  try {
    await addUser(server, 'pusher')
    const deviceId = 'benchpushwire01'
    const session = await loginSession(server, 'pusher', deviceId)
    ourMeter.start()
    const ourPush = await inFreshDevice(`push-ours-${n}`, ours.origin, (page) =>
      page.evaluate((o) => window.gridpatrolBench.pushRun(o), { session, deviceId, grids: GRIDS, n }),
    )
    ourMeter.stop()
    if (ourPush.pushed !== n) throw new Error(`ours pushed ${ourPush.pushed} of ${n} households`)

    pouchMeter.start()
    const pouchPush = await inFreshDevice(`push-pouchdb-${n}`, peer.origin, (page) =>
      page.evaluate((o) => window.gridpatrolBench.pouchPushRun(o), {
        url: `${peer.origin}/couch/${pouchName}`,
        n,
        grids: GRIDS,
        batchSize: pouchBatchSize,
      }),
    )
    pouchMeter.stop()
    const target = new pouch.MemoryPouch(pouchName) as unknown as {
      info(): Promise<{ doc_count: number }>
      destroy(): Promise<unknown>
    }
    const stored = (await target.info()).doc_count
    await target.destroy()
    if (stored !== n) throw new Error(`the PouchDB server holds ${stored} of ${n} documents`)

    return {
      n,
      pouchBatchSize,
      ours: {
        seconds: ourPush.syncSeconds,
        pushSeconds: ourPush.pushSeconds,
        applied: ourPush.pushed,
        sent: ourMeter.count(),
      },
      pouch: { seconds: pouchPush.seconds, written: pouchPush.written, sent: pouchMeter.count() },
    }
  } finally {
    ours.server.close()
    peer.server.close()
    await server.close()
    rmSync(dist, { recursive: true, force: true })
  }
}

const count = (x: number) => Math.round(x).toLocaleString('en-US')

/** The bench table's rows (tests/bench/run.ts): bytes per household pushed, ours / PouchDB, and the ratio. */
export function pushWireRows(result: PushComparison): { name: string; value: string; goal: string }[] {
  const { n, ours, pouch } = result
  const per = (bytes: number) => Math.round(bytes / n)
  const side = (s: SentCount) =>
    `${per(s.sent)} B / ${per(s.raw)} B / ${per(s.gzip)} B (${s.requests} requests; encodings: ${s.encodings.join(', ')})`
  const routes = (s: SentCount) =>
    Object.entries(s.byRoute)
      .map(([route, k]) => `${route} ×${k}`)
      .join(', ')
  return [
    {
      name: `bytes on the wire per household, push of ${count(n)} created offline, from Chromium to a server on loopback (request bodies as sent — ours gzipped by the app's HTTP transport, PouchDB's plain JSON — / as JSON / each JSON body gzipped): ours (sync engine, batches of ${MAX_PUSH_OPS}) vs PouchDB (replicate.to, batch_size ${count(result.pouchBatchSize)})`,
      value: `ours ${side(ours.sent)}; PouchDB ${side(pouch.sent)}; ours/PouchDB as sent ${(ours.sent.sent / pouch.sent.sent).toFixed(2)}, gzip ${(ours.sent.gzip / pouch.sent.gzip).toFixed(2)}`,
      goal: 'ours ≤ half of PouchDB’s (proof issue)',
    },
    {
      name: `… the requests counted (ours: the push and the pull that ends the sync; PouchDB: all of its replication), and the time: ours push / whole sync; PouchDB replicate.to`,
      value: `ours ${routes(ours.sent)}; PouchDB ${routes(pouch.sent)}; ${ours.pushSeconds.toFixed(1)} s / ${ours.seconds.toFixed(1)} s; ${pouch.seconds.toFixed(1)} s`,
      goal: '',
    },
  ]
}

// Alone: `node --import tsx tests/bench/pushPeer.ts` (BENCH_PUSH_WIRE households, default 10,000).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = Number(process.env.BENCH_PUSH_WIRE ?? 10_000)
  const result = await pushComparison(n, { pouchBatchSize: Number(process.env.BENCH_POUCH_BATCH ?? 1000) })
  const machine = `${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`
  console.log(`\nGridPatrol push wire — ${new Date().toISOString()} — ${machine}\n`)
  console.log('| benchmark | result | goal |\n|---|---|---|')
  for (const row of pushWireRows(result)) console.log(`| ${row.name} | ${row.value} | ${row.goal} |`)
  console.log(JSON.stringify(result, null, 2))
}
