/**
 * Browser audits of the built app served by the real server (issue 6): with Lighthouse's mobile defaults, the median of
 * RUNS_PER_PAGE runs must score at least 90 for performance, every run at least 95 for accessibility and for best
 * practices, and Chromium must find the app installable (lighthouseAudit.ts).
 * Two pages: the login page as an anonymous visitor gets it (a fresh profile), and the home screen of a worker who
 * logged in through the UI in the same profile earlier (session, service worker and caches kept, as on the phone).
 * A failure lists each audit of the median run that cost points, with its title and the offending items.
 * `npm test` runs this file (project `audit`) on its own after every other test: the performance score scales the CPU
 * time the page got, and tests running beside it would take their share.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { get, type IncomingHttpHeaders } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  logIn,
  loginFor,
  openDevice,
  ROOT,
  startServer,
  unsyncedCount,
  waitForServiceWorkerControl,
  type RunningServer,
} from '../e2e/harness.ts'
import { auditRuns, describeRuns, shortfalls } from './lighthouseAudit.ts'

let server: RunningServer
const profiles: string[] = []

function newProfile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gridpatrol-lighthouse-'))
  profiles.push(dir)
  return dir
}

beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await server?.stop()
  for (const dir of profiles) rmSync(dir, { recursive: true, force: true })
})

/** One response as it crossed the wire: headers and the still-encoded body (fetch would decode it). */
function rawGet(
  url: string,
  acceptEncoding: string,
): Promise<{ headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((done, fail) => {
    get(url, { headers: { 'accept-encoding': acceptEncoding } }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => done({ headers: response.headers, body: Buffer.concat(chunks) }))
      response.on('error', fail)
    }).on('error', fail)
  })
}

describe('the app shell on the wire', () => {
  it('sends hashed JS and CSS brotli-compressed at the quality the build chose, cached immutable', async () => {
    const html = await (await fetch(`${server.url}/`)).text()
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]!)
    expect(assets.length).toBeGreaterThan(1)
    for (const asset of assets) {
      const original = readFileSync(join(ROOT, 'dist', asset))
      const br = await rawGet(`${server.url}${asset}`, 'gzip, deflate, br')
      expect(br.headers['content-encoding'], asset).toBe('br')
      expect(br.headers['cache-control'], asset).toBe('public, max-age=31536000, immutable')
      expect(br.headers.vary, asset).toMatch(/accept-encoding/i)
      expect(br.body.equals(readFileSync(join(ROOT, 'dist', `${asset}.br`))), asset).toBe(true)
      expect(brotliDecompressSync(br.body).equals(original), asset).toBe(true)
      // A client without brotli gets the file itself, compressed on the fly above the middleware's 1 KB threshold.
      const gzip = await rawGet(`${server.url}${asset}`, 'gzip')
      const body = original.length < 1024 ? gzip.body : gunzipSync(gzip.body)
      expect(gzip.headers['content-encoding'], asset).toBe(original.length < 1024 ? undefined : 'gzip')
      expect(body.equals(original), asset).toBe(true)
    }
  })
})

describe('Lighthouse (mobile) and installability', () => {
  it('the login page, for an anonymous visitor', async () => {
    // Storage and caches cleared before every run: each is a first visit.
    const runs = await auditRuns(`${server.url}/`, newProfile(), { keepStorage: false })
    console.info(describeRuns(runs))
    for (const run of runs)
      expect(run.finalUrl, 'without a session the app must show the login page').toMatch(/\/login/)
    expect(shortfalls(runs), describeRuns(runs)).toEqual([])
  })

  it('the home screen of a logged-in worker, opened again', async () => {
    const profileDir = newProfile()
    const phone = await openDevice({ profileDir })
    try {
      await logIn(phone.page, server, loginFor(server, 'worker'))
      await waitForServiceWorkerControl(phone.page)
      await expect.poll(() => unsyncedCount(phone.page), { timeout: 30_000 }).toBe(0)
    } finally {
      await phone.close()
    }
    const runs = await auditRuns(`${server.url}/`, profileDir, { keepStorage: true })
    console.info(describeRuns(runs))
    for (const run of runs)
      expect(run.finalUrl, 'the session did not survive: Lighthouse was sent to the login page').not.toMatch(
        /\/login/,
      )
    expect(shortfalls(runs), describeRuns(runs)).toEqual([])
  })
})
