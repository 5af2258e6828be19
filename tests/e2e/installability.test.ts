/** Chromium's own installability check of the built app (CDP Page.getInstallabilityErrors, non-incognito profile). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  openDevice,
  startServer,
  waitForServiceWorkerControl,
  type Device,
  type RunningServer,
} from './harness.ts'

let server: RunningServer
let device: Device | undefined

beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await device?.close()
  await server?.stop()
})

describe('PWA installability', () => {
  it('reports no installability errors and serves a complete manifest', async () => {
    device = await openDevice()
    const { page, context } = device
    await page.goto(`${server.url}/`)
    await waitForServiceWorkerControl(page)
    const cdp = await context.newCDPSession(page)
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as {
      installabilityErrors: { errorId: string }[]
    }
    expect(installabilityErrors).toEqual([])

    const manifest = (await (await fetch(`${server.url}/manifest.webmanifest`)).json()) as {
      name: string
      short_name: string
      display: string
      start_url: string
      icons: { sizes: string; purpose?: string }[]
    }
    expect(manifest.display).toBe('standalone')
    expect(manifest.short_name).toBe('网格巡查')
    expect(manifest.icons.map((i) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']))
    expect(manifest.icons.some((i) => i.purpose === 'maskable')).toBe(true)
  })
})
