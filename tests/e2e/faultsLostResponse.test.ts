/**
 * Fault: the connection is cut mid-response, in a real Chromium against the real server.
 * - A push whose response is lost after the server applied the batch: the device cannot tell, keeps the ops queued,
 *   backs off and sends the same batch again; the server answers it from its idempotency records (per device and
 *   op seq), so nothing is doubled and nothing is lost.
 * - A pull page lost mid-response: the pages before it were applied with their cursor, the retry resumes from there,
 *   and the device ends with exactly the server's records.
 * FAULT_RUNS rounds each (default 1). The cut: Playwright fetches the real response (the server did all its work), then aborts the browser's request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  apiSession,
  deviceState,
  expectHouseholdsOnce,
  logIn,
  loginFor,
  openDevice,
  pushHouseholds,
  serverRecords,
  startServer,
  unsyncedCount,
  type Device,
  type RunningServer,
  pushRequest,
  phoneReady,
  queueHouseholdsOffline,
} from './harness.ts'

const RUNS = Number(process.env.FAULT_RUNS ?? 1)
const TIMEOUT = Math.max(180_000, RUNS * 60_000)
/** Three push batches of the engine's 200 ops (200, 200, 50); the second one's answer is lost. */
const QUEUED = 450
/** Enough records for a first pull of three pages of 1000; the second page is lost. */
const ON_SERVER = 2200

let server: RunningServer
const devices: Device[] = []

beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  for (const device of devices) await device.close()
  await server?.stop()
})

interface PushSeen {
  seqs: number[]
  /** The request body byte for byte (gzipped as the device sent it). */
  body: Buffer
  answer: unknown
  cut: boolean
}

describe('the connection cut mid-response', () => {
  it(
    `a lost push answer: the batch is replayed, answered from the idempotency records, applied once (${RUNS} rounds)`,
    async () => {
      const worker = loginFor(server, 'worker')
      const { areaIds } = await apiSession(server, worker, 'e2e-lost-push-api')
      const gridId = areaIds[0]!
      const phone = await phoneReady(server, worker, devices)
      const { page, context } = phone

      const check = await apiSession(server, worker, 'e2e-lost-push-check')
      for (let round = 0; round < RUNS; round++) {
        const prefix = `断线推送测试村${Date.now()}-${round}-`
        const rows = await queueHouseholdsOffline(phone, server, gridId, prefix, QUEUED)

        const pushes: PushSeen[] = []
        await page.route('**/api/sync/push', async (route) => {
          const { raw: body, ops } = await pushRequest(route.request())
          const seqs = ops.map((op) => op.seq)
          const response = await route.fetch()
          const answer: unknown = await response.json()
          const cut = pushes.length === 1
          pushes.push({ seqs, body, answer, cut })
          // The server applied the batch; the phone never hears of it.
          if (cut) await route.abort('connectionreset')
          else await route.fulfill({ response })
        })
        await context.setOffline(false)
        await expect.poll(() => unsyncedCount(page), { timeout: 60_000 }).toBe(0)

        // Batches 1, 2 (answer lost), 2 again (the same ops, byte for byte), 3.
        expect(pushes.map((push) => push.cut)).toEqual([false, true, false, false])
        expect(pushes[2]!.body.equals(pushes[1]!.body)).toBe(true)
        expect(pushes.map((push) => push.seqs.length)).toEqual([200, 200, 200, 50])
        // The replay got the answer the lost response carried (all applied), not a second application.
        const results = (push: PushSeen) => (push.answer as { results: unknown[] }).results
        expect(results(pushes[2]!)).toEqual(results(pushes[1]!))
        expect(results(pushes[2]!)).toEqual(pushes[2]!.seqs.map((seq) => ({ seq, status: 'applied' })))

        await expectHouseholdsOnce(server, check, page, prefix, rows)
        await page.unroute('**/api/sync/push')
      }
    },
    TIMEOUT,
  )

  it(
    `a lost pull page: the pull resumes after the last page applied and ends with exactly the server’s records (${RUNS} rounds)`,
    async () => {
      const worker = loginFor(server, 'worker')
      const seeder = await apiSession(server, worker, 'e2e-lost-pull-seeder')
      const prefix = `断线拉取测试村${Date.now()}-`
      await pushHouseholds(server, seeder, seeder.areaIds[0]!, ON_SERVER, prefix)

      for (let round = 0; round < RUNS; round++) {
        const phone = await openDevice()
        devices.push(phone)
        const { page } = phone
        const pulls: { since: number; cut: boolean }[] = []
        await page.route('**/api/sync/pull?*', async (route) => {
          const since = Number(new URL(route.request().url()).searchParams.get('since'))
          const response = await route.fetch()
          const cut = pulls.length === 1
          pulls.push({ since, cut })
          if (cut) await route.abort('connectionreset')
          else await route.fulfill({ response })
        })
        await logIn(page, server, worker)
        await expect.poll(() => unsyncedCount(page), { timeout: 30_000 }).toBe(0)
        await expect
          .poll(() => pulls.filter((pull) => !pull.cut).length, { timeout: 60_000 })
          .toBeGreaterThanOrEqual(3)
        await page.waitForFunction(
          () => document.querySelector('[data-testid="last-sync"]')?.getAttribute('data-last-sync') !== '',
          undefined,
          { timeout: 60_000 },
        )

        // Page 1 from 0, page 2 lost, then the retry asks again from page 1's cursor, not from 0.
        expect(pulls[0]).toEqual({ since: 0, cut: false })
        expect(pulls[1]!.cut).toBe(true)
        expect(pulls[1]!.since).toBeGreaterThan(0)
        expect(pulls[2]).toEqual({ since: pulls[1]!.since, cut: false })

        const onServer = await serverRecords(server, await apiSession(server, worker, 'e2e-lost-pull-check'))
        const mine = await deviceState(page)
        expect(mine.records.map((record) => record.id).sort()).toEqual(
          onServer.map((record) => record.id).sort(),
        )
        const pulled = mine.records.filter((record) => String(record.fields.address ?? '').startsWith(prefix))
        expect(pulled).toHaveLength(ON_SERVER)
        expect(new Set(pulled.map((record) => record.fields.address)).size).toBe(ON_SERVER)
        await phone.close()
      }
    },
    TIMEOUT,
  )
})
