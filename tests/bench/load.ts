/**
 * A bounded load run on loopback: `devices` simulated phones, each a worker with a grid of their own, sync at once,
 * `rounds` times: each pushes a few new records and pulls what changed in its grid since its last cursor (its own
 * records: the deltas), as phones coming back into signal do. Every phone has caught up once before the timing.
 * Reports the latency of every request (p50, p99) and every answer that was not a 200.
 */
import type { AddressInfo } from 'node:net'
import { MAX_PULL_LIMIT, PROTOCOL_VERSION, type Op } from '#shared/sync/protocol.ts'
import {
  TEST_AREAS,
  VILLAGE,
  addUser,
  createOp,
  login,
  pushBody,
  square,
  startTestServer,
} from '../fixtures/serverHarness.ts'
import { benchHousehold } from './households.ts'
import { formatStamp } from '#shared/sync/hlc.ts'

export interface LoadResult {
  devices: number
  rounds: number
  requests: number
  errors: number
  p50: number
  p99: number
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!

export async function loadRun(devices = 500, rounds = 3, opsPerPush = 5): Promise<LoadResult> {
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
  const listener = server.app.listen(0, '127.0.0.1')
  await new Promise((r) => listener.once('listening', r))
  const base = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`
  const latencies: number[] = []
  let errors = 0
  try {
    const phones: { id: string; gridId: string; token: string; cursor: number; seq: number }[] = []
    for (const [i, grid] of grids.entries()) {
      await addUser(server, `load${i}`, 'worker', [grid.id])
      const id = `loaddevice-${i}`
      phones.push({ id, gridId: grid.id, token: await login(server, `load${i}`, id), cursor: 0, seq: 0 })
    }
    const timed = async (url: string, init: RequestInit) => {
      const t0 = performance.now()
      try {
        const response = await fetch(url, init)
        const body = await response.text()
        if (!response.ok) errors++
        return response.ok ? (JSON.parse(body) as { cursor?: number }) : null
      } catch {
        errors++
        return null
      } finally {
        latencies.push(performance.now() - t0)
      }
    }
    let serial = 0
    for (let round = -1; round < rounds; round++) {
      // Round -1 catches every phone up (not timed): the rounds after it are deltas.
      if (round === 0) latencies.length = errors = 0
      await Promise.all(
        phones.map(async (phone) => {
          const ops: Op[] = Array.from({ length: opsPerPush }, (_, i) => {
            const n = ++serial
            const stamp = formatStamp({ ms: Date.now(), counter: i, node: phone.id })
            return createOp(++phone.seq, `0190d000-0000-7000-8000-${String(n).padStart(12, '0')}`, stamp, {
              ...benchHousehold(n),
              gridId: phone.gridId,
            })
          })
          const headers = { 'content-type': 'application/json', authorization: `Bearer ${phone.token}` }
          await timed(`${base}/api/sync/push`, {
            method: 'POST',
            headers,
            body: JSON.stringify(pushBody(phone.id, ops)),
          })
          const query = `deviceId=${phone.id}&since=${phone.cursor}&limit=${MAX_PULL_LIMIT}&protocol=${PROTOCOL_VERSION}`
          const page = await timed(`${base}/api/sync/pull?${query}`, { headers })
          if (page?.cursor !== undefined) phone.cursor = page.cursor
        }),
      )
    }
    const sorted = [...latencies].sort((a, b) => a - b)
    return {
      devices: phones.length,
      rounds,
      requests: latencies.length,
      errors,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
    }
  } finally {
    listener.close()
    await server.close()
  }
}
