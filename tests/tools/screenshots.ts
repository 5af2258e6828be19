/**
 * Screenshots of the built app on a 390 px phone, for the README and for a person's look at the UI:
 * `npm run build && node --import tsx tests/tools/screenshots.ts [outDir]` (default public/screenshots).
 * Starts the real server on a throwaway data directory and logs in as a demo worker.
 */
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { loginFor, openDevice, startServer, waitForServiceWorkerControl } from '../e2e/harness.ts'

const outDir = resolve(process.argv[2] ?? 'public/screenshots')
mkdirSync(outDir, { recursive: true })
const server = await startServer()
const device = await openDevice()
try {
  const { page } = device
  const worker = loginFor(server, 'worker')
  await page.goto(`${server.url}/login`)
  await page.getByTestId('login-username').waitFor()
  await page.screenshot({ path: `${outDir}/login.png` })
  await page.getByTestId('login-username').fill(worker.username)
  await page.getByTestId('login-password').fill(worker.password)
  await page.getByTestId('login-submit').click()
  await page.getByTestId('unsynced-count').waitFor()
  await waitForServiceWorkerControl(page)
  await page.waitForFunction(() => !document.querySelector('[data-testid="sync-progress"]'), null, {
    timeout: 30_000,
  })
  await page.waitForTimeout(1500)
  await page.screenshot({ path: `${outDir}/home.png` })
  for (const kind of ['household', 'incident']) {
    await page.getByTestId(`tab-${kind}`).click()
    await page.getByTestId('record-item').first().waitFor()
    await page.screenshot({ path: `${outDir}/${kind}-list.png` })
  }
  await page.goto(`${server.url}/records/household/new`)
  await page.getByTestId('form-save').click()
  await page.waitForTimeout(500)
  await page.screenshot({ path: `${outDir}/household-form.png` })
  await page.getByTestId('tab-map').click()
  await page.getByTestId('map').waitFor()
  await page.waitForTimeout(1500)
  await page.screenshot({ path: `${outDir}/map.png` })

  // A town leader's workbench on a second device: an incident's steps, the clustered map, the dashboard.
  const desk = await openDevice()
  try {
    const leader = loginFor(server, 'leader')
    const lp = desk.page
    await lp.goto(`${server.url}/login`)
    await lp.getByTestId('login-username').fill(leader.username)
    await lp.getByTestId('login-password').fill(leader.password)
    await lp.getByTestId('login-submit').click()
    await lp.getByTestId('unsynced-count').waitFor()
    await lp.waitForFunction(() => !document.querySelector('[data-testid="sync-progress"]'), null, {
      timeout: 60_000,
    })
    // An incident waiting for a leader's step (reported, or verified and ready to close), read from the device.
    const waiting = await lp.evaluate(
      () =>
        new Promise<string | undefined>((done) => {
          const open = indexedDB.open('gridpatrol')
          open.onsuccess = () => {
            const all = open.result.transaction('records').objectStore('records').getAll()
            all.onsuccess = () =>
              done(
                (all.result as { id: string; kind: string; fields: { status?: string } }[]).find(
                  (r) => r.kind === 'incident' && ['reported', 'verified'].includes(r.fields.status ?? ''),
                )?.id,
              )
          }
        }),
    )
    await lp.goto(`${server.url}/records/incident/${waiting}`)
    await lp.getByTestId('form-save').waitFor()
    await lp.waitForTimeout(1500)
    await lp.screenshot({ path: `${outDir}/incident-steps.png` })
    await lp.getByTestId('tab-map').click()
    await lp.getByTestId('map').waitFor()
    await lp.waitForTimeout(2500)
    await lp.screenshot({ path: `${outDir}/leader-map.png` })
    await lp.goto(`${server.url}/dashboard`)
    await lp.getByTestId('dash-by-status').waitFor()
    await lp.waitForTimeout(2000)
    await lp.screenshot({ path: `${outDir}/dashboard.png` })
  } finally {
    await desk.close()
  }
  console.log(`screenshots in ${outDir}`)
} finally {
  await device.close()
  await server.stop()
}
