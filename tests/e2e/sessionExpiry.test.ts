/**
 * A session that expires while the phone is offline: the app keeps working on its cached session, captures records,
 * and once online asks for the password again before syncing; nothing captured is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  apiLogin,
  fillField,
  logIn,
  loginFor,
  openDevice,
  startServer,
  unsyncedCount,
  waitForServiceWorkerControl,
  type Device,
  type RunningServer,
} from './harness.ts'

const ACCESS_TTL_MS = 2_000
const REFRESH_TTL_MS = 6_000

let server: RunningServer
let phone: Device | undefined

beforeAll(async () => {
  server = await startServer({
    ACCESS_TOKEN_TTL_MS: String(ACCESS_TTL_MS),
    REFRESH_TOKEN_TTL_MS: String(REFRESH_TTL_MS),
  })
})
afterAll(async () => {
  await phone?.close()
  await server?.stop()
})

describe('session expiry while offline', () => {
  it('keeps every record captured offline and pushes them after the password is given again', async () => {
    const worker = loginFor(server, 'worker')
    phone = await openDevice()
    const { page, context } = phone
    await logIn(page, server, worker)
    await waitForServiceWorkerControl(page)
    await expect.poll(() => unsyncedCount(page), { timeout: 30_000 }).toBe(0)

    await context.setOffline(true)
    const addresses = [1, 2, 3].map((n) => `会话过期测试 ${Date.now()}-${n} 号`)
    for (const address of addresses) {
      await page.goto(`${server.url}/records/household/new`)
      await fillField(page, 'address', address)
      await fillField(page, 'headName', '李测试')
      await page.getByTestId('field-housing-rented').click()
      await page.getByTestId('form-save').click()
      await page.waitForURL('**/records/household')
    }
    await page.getByTestId('tab-home').click()
    await expect.poll(() => unsyncedCount(page)).toBe(3)

    // Let both tokens run out while offline (a real wait: the server's clock decides).
    await page.waitForTimeout(REFRESH_TTL_MS + 1_000)
    await context.setOffline(false)
    await page.getByTestId('sync-now').click()
    await page.getByTestId('reauth-banner').waitFor({ timeout: 30_000 })
    expect(await unsyncedCount(page)).toBe(3)

    await page.getByTestId('reauth-open').click()
    await page.getByTestId('reauth-password').fill(worker.password)
    await page.locator('.van-dialog__confirm').click()
    await expect.poll(() => unsyncedCount(page), { timeout: 30_000 }).toBe(0)

    const token = await apiLogin(server, worker)
    const response = await fetch(
      `${server.url}/api/sync/pull?deviceId=e2e-api-check&since=0&limit=5000&protocol=1`,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    )
    const pulled = (await response.json()) as { records: { fields: Record<string, unknown> }[] }
    const onServer = new Set(pulled.records.map((r) => r.fields.address))
    for (const address of addresses) expect(onServer).toContain(address)
    expect(phone.cspViolations).toEqual([])
  })
})
