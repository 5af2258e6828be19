/**
 * A bounded load run on loopback: `devices` simulated phones, each a worker with a grid of their own, sync `rounds`
 * times: each pushes a few new records and pulls what changed in its grid since its last cursor (its own records: the
 * deltas), as phones coming back into signal do. Every phone has caught up once before the timing. The server runs in
 * its own process (tests/bench/loadServer.ts), so the phones' JSON work does not queue in its event loop.
 *
 * Two shapes of load, both reported:
 * - steady: each phone syncs once per `periodMs`, at a random moment of it (500 phones every 10 s: 50 syncs/s);
 * - burst: every phone at the same instant (the worst case: a whole county after a network outage).
 * Latency is per request (p50, p99); an error is any answer that is not a 200, or no answer.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { resolve } from 'node:path'
import { MAX_PULL_LIMIT, PROTOCOL_VERSION, type Op } from '#shared/sync/protocol.ts'
import { formatStamp } from '#shared/sync/hlc.ts'
import { createOp, pushBody } from '../fixtures/serverHarness.ts'
import { benchHousehold } from './households.ts'
import type { LoadPhone } from './loadServer.ts'
import { SERVER_NODE_FLAGS } from '../../server/nodeFlags.ts'

export interface LoadFigures {
  requests: number
  errors: number
  p50: number
  p99: number
}

export interface LoadResult {
  devices: number
  rounds: number
  periodMs: number
  steady: LoadFigures
  burst: LoadFigures
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!

async function startLoadServer(devices: number) {
  const child = spawn(
    process.execPath,
    [...SERVER_NODE_FLAGS, '--import', 'tsx', resolve(import.meta.dirname, 'loadServer.ts')],
    {
      env: { ...process.env, LOAD_DEVICES: String(devices) },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  )
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  const first = await new Promise<string>((done, fail) => {
    const lines = createInterface({ input: child.stdout })
    lines.once('line', done)
    child.once('exit', (code) => fail(new Error(`load server exited (${code}) before it was ready`)))
  })
  const ready = JSON.parse(first) as { port: number; phones: LoadPhone[] }
  return {
    base: `http://127.0.0.1:${ready.port}`,
    phones: ready.phones.map((phone) => ({ ...phone, cursor: 0, seq: 0 })),
    async stop() {
      child.stdin.end()
      await exited
    },
  }
}

export async function loadRun(
  devices = 500,
  rounds = 3,
  { opsPerPush = 5, periodMs = 10_000 } = {},
): Promise<LoadResult> {
  const server = await startLoadServer(devices)
  let serial = 0
  try {
    const syncOnce = async (phone: (typeof server.phones)[number], figures: number[], fail: () => void) => {
      const timed = async (url: string, init: RequestInit) => {
        const t0 = performance.now()
        try {
          const response = await fetch(url, init)
          const body = await response.text()
          if (!response.ok) fail()
          return response.ok ? (JSON.parse(body) as { cursor?: number }) : null
        } catch {
          fail()
          return null
        } finally {
          figures.push(performance.now() - t0)
        }
      }
      const ops: Op[] = Array.from({ length: opsPerPush }, (_, i) => {
        const n = ++serial
        const stamp = formatStamp({ ms: Date.now(), counter: i, node: phone.id })
        return createOp(++phone.seq, `0190d000-0000-7000-8000-${String(n).padStart(12, '0')}`, stamp, {
          ...benchHousehold(n),
          gridId: phone.gridId,
        })
      })
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${phone.token}` }
      await timed(`${server.base}/api/sync/push`, {
        method: 'POST',
        headers,
        body: JSON.stringify(pushBody(phone.id, ops)),
      })
      const query = `deviceId=${phone.id}&since=${phone.cursor}&limit=${MAX_PULL_LIMIT}&protocol=${PROTOCOL_VERSION}`
      const page = await timed(`${server.base}/api/sync/pull?${query}`, { headers })
      if (page?.cursor !== undefined) phone.cursor = page.cursor
    }

    const measure = async (times: number, startAt: () => number): Promise<LoadFigures> => {
      const latencies: number[] = []
      let errors = 0
      for (let round = 0; round < times; round++) {
        await Promise.all(
          server.phones.map(async (phone) => {
            await new Promise((wait) => setTimeout(wait, startAt()))
            await syncOnce(phone, latencies, () => errors++)
          }),
        )
      }
      const sorted = [...latencies].sort((a, b) => a - b)
      return {
        requests: latencies.length,
        errors,
        p50: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
      }
    }

    // Catch every phone up first (not timed): what is measured after it are deltas.
    await measure(1, () => 0)
    const steady = await measure(rounds, () => Math.random() * periodMs)
    const burst = await measure(rounds, () => 0)
    return { devices, rounds, periodMs, steady, burst }
  } finally {
    await server.stop()
  }
}
