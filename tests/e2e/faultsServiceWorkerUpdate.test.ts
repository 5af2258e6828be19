/**
 * Fault: a new app version is deployed while the phone has changes queued, in a real Chromium against the real server
 * behind a loopback proxy that serves a changed /sw.js (harness.ts startDeployProxy). The service worker update is
 * found, the prompt (发现新版本) is accepted, the new worker takes control and the app reloads: the queue lives in
 * IndexedDB, which updating never touches (useServiceWorker.ts), so every queued change is still there and reaches
 * the server exactly once. The sync API is unreachable (aborted) until after the update, so nothing syncs early.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  apiSession,
  expectHouseholdsOnce,
  loginFor,
  startDeployProxy,
  startServer,
  unsyncedCount,
  type DeployProxy,
  type Device,
  type RunningServer,
  pushRequest,
  phoneReady,
  queueHouseholdsOffline,
} from './harness.ts'

const RUNS = Number(process.env.FAULT_RUNS ?? 1)
const TIMEOUT = Math.max(180_000, RUNS * 60_000)
/** Two push batches of the engine's 200. */
const QUEUED = 250

let server: RunningServer
let proxy: DeployProxy
const devices: Device[] = []

beforeAll(async () => {
  server = await startServer()
  proxy = await startDeployProxy(server)
})
afterAll(async () => {
  for (const device of devices) await device.close()
  await proxy?.stop()
  await server?.stop()
})

describe('a service-worker update while changes are queued', () => {
  it(
    `keeps the queued changes through the update and reload, and pushes each once (${RUNS} rounds)`,
    async () => {
      const worker = loginFor(server, 'worker')
      const check = await apiSession(server, worker, 'e2e-sw-update-check')
      const gridId = check.areaIds[0]!
      const app = { ...server, url: proxy.url }
      const phone = await phoneReady(app, worker, devices)
      const { page, context } = phone

      for (let round = 0; round < RUNS; round++) {
        const prefix = `更新版本测试村${Date.now()}-${round}-`
        const rows = await queueHouseholdsOffline(phone, app, gridId, prefix, QUEUED)

        // Back online, but the sync API does not answer yet; a new version is deployed meanwhile.
        const pushed: number[] = []
        let open = false
        await page.route('**/api/sync/**', async (route) => {
          if (!open) return route.abort('connectionrefused')
          if (route.request().method() === 'POST')
            pushed.push(...(await pushRequest(route.request())).ops.map((op) => op.seq))
          return route.fallback()
        })
        await context.setOffline(false)
        const version = round + 2
        proxy.deploy(version)
        await page.evaluate(() => {
          ;(window as { beforeUpdate?: boolean }).beforeUpdate = true
        })
        await page.evaluate(async () => {
          await (await navigator.serviceWorker.getRegistration())?.update()
        })
        const prompt = page.locator('.van-dialog').filter({ hasText: '发现新版本' })
        await prompt.waitFor({ timeout: 30_000 })
        expect(proxy.served.get(version)).toBeGreaterThan(0)
        await prompt.locator('.van-dialog__confirm').click()

        // The new worker controls a freshly loaded app, with nothing waiting behind it.
        await page.waitForFunction(() => !(window as { beforeUpdate?: boolean }).beforeUpdate, undefined, {
          timeout: 30_000,
        })
        await page.getByTestId('unsynced-count').waitFor()
        await page.waitForFunction(async () => {
          const registration = await navigator.serviceWorker.getRegistration()
          return (
            navigator.serviceWorker.controller !== null &&
            registration?.waiting === null &&
            registration.installing === null &&
            registration.active?.state === 'activated'
          )
        })
        expect(await unsyncedCount(page)).toBe(QUEUED)
        expect(pushed).toEqual([])

        // The API answers again: the queue drains, each op once.
        open = true
        await page.getByTestId('sync-now').click()
        await expect.poll(() => unsyncedCount(page), { timeout: 60_000 }).toBe(0)
        await page.unroute('**/api/sync/**')
        expect(pushed).toHaveLength(QUEUED)
        expect(new Set(pushed).size).toBe(QUEUED)
        await expectHouseholdsOnce(server, check, page, prefix, rows)
      }
    },
    TIMEOUT,
  )
})
