/**
 * The walking skeleton's promise, in a real Chromium: capture offline, reload offline from the service worker,
 * come back online, the records reach the server and the map, and another device pulls them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import {
  apiLogin,
  fillField,
  logIn,
  unsyncedCount,
  loginFor,
  openDevice,
  startServer,
  waitForServiceWorkerControl,
  type Device,
  type RunningServer,
} from './harness.ts'

let server: RunningServer
const devices: Device[] = []

beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  for (const device of devices) await device.close()
  await server?.stop()
})

/** The ids listed for `kind`, once the list shows that kind's rows (each row carries its record's kind). */
async function recordIdsOnList(page: Page, kind: string): Promise<string[]> {
  await page.getByTestId(`tab-${kind}`).click()
  await page.waitForURL(`**/records/${kind}`)
  const items = page.getByTestId('record-item')
  await expect
    .poll(
      () =>
        items.evaluateAll(
          (rows, shown) => rows.length > 0 && rows.every((row) => row.getAttribute('data-kind') === shown),
          kind,
        ),
      { timeout: 15_000 },
    )
    .toBe(true)
  return items.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-record-id') ?? ''))
}

describe('offline capture → sync → server → map → another device', () => {
  it('keeps offline records across an offline reload, syncs them, and a second device pulls them', async () => {
    const worker = loginFor(server, 'worker')
    const phone = await openDevice()
    devices.push(phone)
    const { page, context } = phone
    await logIn(page, server, worker)
    await waitForServiceWorkerControl(page)
    await expect.poll(() => unsyncedCount(page), { timeout: 30_000 }).toBe(0)

    // GPS works offline; put the phone inside the demo county (安吉县).
    await context.grantPermissions(['geolocation'], { origin: server.url })
    await context.setGeolocation({ latitude: 30.6, longitude: 119.65, accuracy: 8 })
    await context.setOffline(true)
    const address = `离线测试村 ${Date.now()} 号`
    await page.goto(`${server.url}/records/household/new`)
    await fillField(page, 'address', address)
    await fillField(page, 'headName', '王测试')
    await page.getByTestId('field-housing-owned').click()
    await page.getByTestId('field-location-get').click()
    await page.getByTestId('location-accuracy').waitFor()
    await page.getByTestId('form-save').click()
    await page.waitForURL('**/records/household')

    const description = `离线上报的安全隐患 ${Date.now()}`
    await page.goto(`${server.url}/records/incident/new`)
    await page.getByTestId('field-category-safety').click()
    await page.getByTestId('field-urgency-urgent').click()
    await fillField(page, 'description', description)
    await page.getByTestId('form-save').click()
    await page.waitForURL('**/records/incident')

    await page.getByTestId('tab-home').click()
    await expect.poll(() => unsyncedCount(page)).toBe(2)

    // Reload while offline: the shell comes from the service worker, the records and the queue from IndexedDB.
    await page.reload()
    await page.getByTestId('unsynced-count').waitFor()
    expect(await unsyncedCount(page)).toBe(2)
    expect(await page.getByTestId('online-status').getAttribute('data-online')).toBe('false')
    const householdIds = await recordIdsOnList(page, 'household')
    const incidentIds = await recordIdsOnList(page, 'incident')
    const incidentRow = page.getByTestId('record-item').filter({ hasText: description })
    expect(await incidentRow.count()).toBe(1)
    const newIncidentId = await incidentRow.getAttribute('data-record-id')
    await page.getByTestId('tab-household').click()
    const newHouseholdId = await page
      .getByTestId('record-item')
      .filter({ hasText: address })
      .getAttribute('data-record-id')
    expect(householdIds).toContain(newHouseholdId)
    expect(incidentIds).toContain(newIncidentId)

    // Back online: the queue drains to the server.
    await context.setOffline(false)
    await page.getByTestId('tab-home').click()
    await expect.poll(() => unsyncedCount(page), { timeout: 30_000 }).toBe(0)
    const token = await apiLogin(server, worker)
    const onServer = async (kind: string, id: string | null) => {
      const response = await fetch(`${server.url}/api/records/${kind}/${id}`, {
        headers: { authorization: `Bearer ${token}` },
      })
      return response.ok ? ((await response.json()) as { fields: Record<string, unknown> }).fields : null
    }
    expect((await onServer('household', newHouseholdId))?.address).toBe(address)
    expect((await onServer('incident', newIncidentId))?.description).toBe(description)

    // On the map (no basemap reachable): the new records are drawn.
    await page.getByTestId('tab-map').click()
    await page.getByTestId('map').waitFor()
    await page.locator(`path.gp-id-${newHouseholdId}`).waitFor({ state: 'attached' })
    expect(await page.locator('path.gp-grid').count()).toBeGreaterThan(0)

    // Another device (a leader's) pulls them.
    const tablet = await openDevice()
    devices.push(tablet)
    await logIn(tablet.page, server, loginFor(server, 'leader'))
    await expect.poll(() => unsyncedCount(tablet.page), { timeout: 30_000 }).toBe(0)
    await expect
      .poll(async () => (await recordIdsOnList(tablet.page, 'household')).includes(newHouseholdId ?? ''), {
        timeout: 30_000,
      })
      .toBe(true)
    expect(await recordIdsOnList(tablet.page, 'incident')).toContain(newIncidentId)

    // The strict Content-Security-Policy (no 'unsafe-inline') held on every screen visited.
    expect(phone.cspViolations).toEqual([])
    expect(tablet.cspViolations).toEqual([])
  })
})
