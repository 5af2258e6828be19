/**
 * Fault: the page is reloaded in the middle of a sync (the user pulls to refresh, the phone kills the tab), in a real
 * Chromium against the real server.
 * - During a push of several batches: the outbox lives in IndexedDB, and an op leaves it only through the server's
 *   answer, so after the restart the app sends what was not acknowledged (a batch the server had applied is
 *   answered again from its idempotency records). Round by round the reload lands on either side of the server's
 *   work: after it applied the second batch (its answer never reaches the page), or before the batch left.
 * - During a long first pull (the reload as page 3 is asked for): each page is stored with its cursor in one
 *   transaction, so the restarted app resumes after the last stored page and ends with exactly the server's records.
 * FAULT_RUNS rounds each (default 1). Rounds alternate where the reload lands: the push's first round after the
 * server applied the batch, the pull's first round before the page left the server, and the other way round next.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Page, Route } from 'playwright-core'
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
/** Four push batches of the engine's 200 ops (200, 200, 200, 50); the reload comes during the second. */
const QUEUED = 650
/** A first pull of three pages of 1000 (plus the demo data); the reload comes while the third is asked for. */
const ON_SERVER = 2500

let server: RunningServer
const devices: Device[] = []

beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  for (const device of devices) await device.close()
  await server?.stop()
})

/** Reload the page while `route`'s request is under way; resolves when the restarted app is up. */
async function reloadDuring(page: Page, route: Route, serverGetsIt: boolean): Promise<void> {
  if (serverGetsIt) await route.fetch()
  await page.reload()
  // The request died with the page that made it.
  await route.abort('aborted').catch(() => undefined)
}

async function lastSyncAt(page: Page): Promise<string> {
  return (await page.getByTestId('last-sync').getAttribute('data-last-sync')) ?? ''
}

describe('a page reloaded mid-sync', () => {
  it(
    `resumes a push of several batches after a reload and applies every op once (${RUNS} rounds)`,
    async () => {
      const worker = loginFor(server, 'worker')
      const check = await apiSession(server, worker, 'e2e-reload-push-check')
      const gridId = check.areaIds[0]!
      const phone = await phoneReady(server, worker, devices)
      const { page, context } = phone

      for (let round = 0; round < RUNS; round++) {
        const serverGetsIt = round % 2 === 0
        const prefix = `刷新推送测试村${Date.now()}-${round}-`
        const rows = await queueHouseholdsOffline(phone, server, gridId, prefix, QUEUED)

        const pushed: number[][] = []
        let reloaded: Promise<void> | null = null
        await page.route('**/api/sync/push', async (route) => {
          const seqs = (await pushRequest(route.request())).ops.map((op) => op.seq)
          pushed.push(seqs)
          if (pushed.length === 2) {
            reloaded = reloadDuring(page, route, serverGetsIt)
            return
          }
          await route.fulfill({ response: await route.fetch() }).catch(() => undefined)
        })
        await context.setOffline(false)
        await expect.poll(() => reloaded !== null, { timeout: 30_000 }).toBe(true)
        await reloaded
        await page.getByTestId('unsynced-count').waitFor()
        await expect.poll(() => unsyncedCount(page), { timeout: 60_000 }).toBe(0)
        await page.unroute('**/api/sync/push')

        // After the restart the app went on from the first op it had no stored answer for: the second batch (never
        // acknowledged), or the first if the reload came before its answers were written (the engine sends the next
        // batch while it writes them). Only those two batches went twice; every op went.
        expect(pushed.length).toBeGreaterThanOrEqual(4)
        expect([pushed[0], pushed[1]]).toContainEqual(pushed[2])
        const twice = pushed.flat().filter((seq, i, all) => all.indexOf(seq) !== i)
        expect(twice.every((seq) => pushed[0]!.includes(seq) || pushed[1]!.includes(seq))).toBe(true)
        expect(new Set(pushed.flat()).size).toBe(QUEUED)
        await expectHouseholdsOnce(server, check, page, prefix, rows)
      }
    },
    TIMEOUT,
  )

  it(
    `resumes a long first pull after a reload where it stopped, with exactly the server’s records (${RUNS} rounds)`,
    async () => {
      const worker = loginFor(server, 'worker')
      const seeder = await apiSession(server, worker, 'e2e-reload-pull-seeder')
      await pushHouseholds(server, seeder, seeder.areaIds[0]!, ON_SERVER, `刷新拉取测试村${Date.now()}-`)
      const expected = (
        await serverRecords(server, await apiSession(server, worker, 'e2e-reload-pull-check'))
      )
        .map((record) => record.id)
        .sort()

      for (let round = 0; round < RUNS; round++) {
        const phone = await openDevice()
        devices.push(phone)
        const { page } = phone
        const pulls: number[] = []
        let reloaded: Promise<void> | null = null
        await page.route('**/api/sync/pull?*', async (route) => {
          pulls.push(Number(new URL(route.request().url()).searchParams.get('since')))
          if (pulls.length === 3) {
            reloaded = reloadDuring(page, route, round % 2 === 1)
            return
          }
          await route.fulfill({ response: await route.fetch() }).catch(() => undefined)
        })
        await logIn(page, server, worker)
        await expect.poll(() => reloaded !== null, { timeout: 30_000 }).toBe(true)
        await reloaded
        await page.getByTestId('unsynced-count').waitFor()
        await expect.poll(() => lastSyncAt(page), { timeout: 60_000 }).not.toBe('')

        // Pages 1 and 2, then the reload while page 3 was asked for (the engine asks for the next page while it
        // writes one, so page 1 was stored and page 2 perhaps): the restarted app goes on from the cursor of the last
        // page it stored, never from 0.
        expect(pulls[0]).toBe(0)
        expect(pulls[1]).toBeGreaterThan(0)
        expect(pulls[2]).toBeGreaterThan(pulls[1]!)
        expect([pulls[1], pulls[2]]).toContain(pulls[3])
        const mine = await deviceState(page)
        expect(mine.records.map((record) => record.id).sort()).toEqual(expected)
        expect({ outbox: mine.outbox, refused: mine.refused }).toEqual({ outbox: 0, refused: 0 })
        await phone.close()
      }
    },
    TIMEOUT,
  )
})
