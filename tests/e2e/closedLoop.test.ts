/**
 * The closed loop (闭环) in a real Chromium, one incident from report to closure across three devices: a worker
 * reports it offline and syncs; a leader accepts and dispatches it to the handler; the handler reports it handled;
 * the worker verifies it on site offline and syncs; the leader closes it. Its timeline shows every step with who and
 * when, the leader's map draws it and the dashboard counts it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
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

let server: RunningServer
const devices: Device[] = []

beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  for (const device of devices) await device.close()
  await server?.stop()
})

async function device(): Promise<Device> {
  const opened = await openDevice()
  devices.push(opened)
  return opened
}

/** Sync now from the home screen and wait until nothing is left to push. */
async function syncNow(page: Page): Promise<void> {
  await page.getByTestId('tab-home').click()
  await page.getByTestId('sync-now').click()
  await expect.poll(() => unsyncedCount(page), { timeout: 30_000 }).toBe(0)
  expect(await page.getByTestId('refused-item').count()).toBe(0)
}

/** Open the incident's screen once the device holds it in `status` (syncing again until it does). */
async function openIncident(page: Page, id: string, status: string): Promise<void> {
  await expect
    .poll(
      async () => {
        await page.goto(`${server.url}/records/incident/${id}`)
        const panel = page.getByTestId('workflow-panel')
        const found = await panel
          .waitFor({ timeout: 5_000 })
          .then(() => panel.getAttribute('data-status'))
          .catch(() => null)
        if (found !== status) {
          await page.getByTestId('tab-home').click()
          await page.getByTestId('sync-now').click()
        }
        return found
      },
      { timeout: 45_000, interval: 500 },
    )
    .toBe(status)
}

/** Take a step from the incident's screen, the popup's inputs filled by `fill`. */
async function takeStep(page: Page, action: string, fill?: () => Promise<void>): Promise<void> {
  await page.getByTestId(`step-${action}`).click()
  const popup = page.locator(`[data-testid="step-popup"][data-action="${action}"]`)
  await popup.waitFor()
  if (fill) await fill()
  await popup.getByTestId('step-submit').click()
  await popup.waitFor({ state: 'hidden' })
}

const statusOf = (page: Page) => page.getByTestId('workflow-panel').getAttribute('data-status')

describe('the closed loop across a worker, a leader and a handler', () => {
  it('takes an incident from an offline report to closure, with its timeline, on the map and on the dashboard', async () => {
    const worker = loginFor(server, 'worker')
    const leader = loginFor(server, 'leader')
    const handler = loginFor(server, 'handler')

    // 1. The worker reports it offline, with a GPS point, and syncs when back online.
    const phone = await device()
    await logIn(phone.page, server, worker)
    await waitForServiceWorkerControl(phone.page)
    await expect.poll(() => unsyncedCount(phone.page), { timeout: 30_000 }).toBe(0)
    await phone.context.grantPermissions(['geolocation'], { origin: server.url })
    await phone.context.setGeolocation({ latitude: 30.6, longitude: 119.65, accuracy: 8 })
    await phone.context.setOffline(true)
    const description = `闭环测试：村道塌陷 ${Date.now()}`
    await phone.page.goto(`${server.url}/records/incident/new`)
    await phone.page.getByTestId('field-category-safety').click()
    await fillField(phone.page, 'description', description)
    await phone.page.getByTestId('field-location-get').click()
    await phone.page.getByTestId('location-accuracy').waitFor()
    await phone.page.getByTestId('form-save').click()
    await phone.page.waitForURL('**/records/incident')
    const id = await phone.page
      .getByTestId('record-item')
      .filter({ hasText: description })
      .getAttribute('data-record-id')
    expect(id).toBeTruthy()
    const incidentId = id!
    await phone.context.setOffline(false)
    await syncNow(phone.page)

    // 2. The leader accepts it and dispatches it to the handler (picked from the server's list).
    const desk = await device()
    await logIn(desk.page, server, leader)
    await openIncident(desk.page, incidentId, 'reported')
    await takeStep(desk.page, 'accept')
    await expect.poll(() => statusOf(desk.page)).toBe('accepted')
    await takeStep(desk.page, 'dispatch', async () => {
      await desk.page
        .getByTestId('handler-option')
        .filter({ hasText: handler.displayName ?? '' })
        .click()
    })
    await expect.poll(() => statusOf(desk.page)).toBe('dispatched')
    await desk.page.getByTestId('incident-deadline').waitFor()
    await syncNow(desk.page)

    // 3. The handler reports it handled.
    const office = await device()
    await logIn(office.page, server, handler)
    await openIncident(office.page, incidentId, 'dispatched')
    await takeStep(office.page, 'handle', async () => {
      await office.page.getByTestId('step-result').fill('已回填塌陷路面并设置警示桩')
    })
    await expect.poll(() => statusOf(office.page)).toBe('handled')
    await syncNow(office.page)

    // 4. The worker pulls it, then verifies it on site without signal, and syncs later.
    await openIncident(phone.page, incidentId, 'handled')
    await phone.context.setOffline(true)
    await phone.page.reload()
    await takeStep(phone.page, 'verify')
    await expect.poll(() => statusOf(phone.page)).toBe('verified')
    await phone.page.getByTestId('tab-home').click()
    expect(await unsyncedCount(phone.page)).toBe(1)
    await phone.context.setOffline(false)
    await expect.poll(() => unsyncedCount(phone.page), { timeout: 30_000 }).toBe(0)
    expect(await phone.page.getByTestId('refused-item').count()).toBe(0)

    // 5. The leader closes it (the dashboard counts one closed incident more afterwards).
    const closedBefore = await closedOnDashboard(desk.page, server.url)
    await openIncident(desk.page, incidentId, 'verified')
    await takeStep(desk.page, 'close')
    await expect.poll(() => statusOf(desk.page)).toBe('closed')
    await syncNow(desk.page)
    const token = await apiLogin(server, leader)
    const onServer = await fetch(`${server.url}/api/records/incident/${incidentId}`, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(((await onServer.json()) as { fields: Record<string, unknown> }).fields).toMatchObject({
      status: 'closed',
      description,
    })

    // Its timeline shows every step, by whom.
    await desk.page.goto(`${server.url}/records/incident/${incidentId}`)
    const timeline = desk.page.getByTestId('timeline')
    await timeline.getByTestId('timeline-entry').first().waitFor()
    const steps = await timeline.getByTestId('timeline-entry').evaluateAll((entries) =>
      entries.map((entry) => ({
        to: entry.getAttribute('data-to'),
        who: entry.querySelector('[data-testid="timeline-who"]')?.textContent?.trim(),
        at: entry.querySelector('[data-testid="timeline-at"]')?.textContent?.trim(),
      })),
    )
    const byStep = (to: string) => steps.filter((step) => step.to === to)
    expect(byStep('reported').map((s) => s.who)).toEqual([worker.displayName])
    expect(byStep('accepted').map((s) => s.who)).toEqual([leader.displayName])
    expect(byStep('dispatched').map((s) => s.who)).toEqual([leader.displayName])
    expect(byStep('handled').map((s) => s.who)).toEqual([handler.displayName])
    expect(byStep('verified').map((s) => s.who)).toEqual([worker.displayName])
    expect(byStep('closed').map((s) => s.who)).toEqual([leader.displayName])
    for (const step of steps) expect(step.at).toMatch(/\d{2}:\d{2}/)
    await expect
      .poll(() => timeline.getByTestId('timeline-status').first().textContent())
      .toContain('已核查 → 已结案')

    // The leader's map draws it: filtered to today's closed safety incidents, it stands alone (not in a cluster).
    await desk.page.getByTestId('tab-map').click()
    await desk.page.getByTestId('map').waitFor()
    await desk.page.getByTestId('map-filter-open').click()
    await desk.page.getByTestId('map-filter-status-closed').click()
    await desk.page.getByTestId('map-filter-category-safety').click()
    const today = new Date()
    const day = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, '0')}-${String(today.getDate()).padStart(2, '0')}`
    await desk.page.getByTestId('map-filter-from').fill(day)
    await desk.page.getByTestId('map-filter-done').click()
    await desk.page.locator(`path.gp-id-${incidentId}`).waitFor({ state: 'attached', timeout: 30_000 })

    // The leader's dashboard counts it among the closed.
    expect(await closedOnDashboard(desk.page, server.url)).toBe(closedBefore + 1)

    for (const used of [phone, desk, office]) expect(used.cspViolations).toEqual([])
  })
})

/** The number of closed incidents on the dashboard (统计分析), reported in its default date range. */
async function closedOnDashboard(page: Page, url: string): Promise<number> {
  await page.goto(`${url}/dashboard`)
  const figures = page.getByTestId('dash-by-status')
  await figures.waitFor()
  const closed = figures.locator('li[data-key="closed"]')
  return (await closed.count()) === 0 ? 0 : Number(await closed.getAttribute('data-count'))
}
