/**
 * End-to-end harness: the real server process (`server/index.ts`, as `npm start` runs it) on 127.0.0.1 with a
 * throwaway data directory, serving the built app from dist/, and Debian's Chromium driven by playwright-core with
 * throwaway persistent profiles (incognito contexts fail installability checks and lack a real service worker life).
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { request as httpRequest, createServer as createHttpServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { expect } from 'vitest'
import { chromium, type BrowserContext, type Page, type Request } from 'playwright-core'
import { formatStamp } from '#shared/sync/hlc.ts'
import { MAX_PUSH_OPS, PROTOCOL_VERSION, type Op } from '#shared/sync/protocol.ts'
import { ROOT, freePort, startServerProcess } from '../fixtures/serverProcess.ts'

export { ROOT }
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
]

export interface DemoLogin {
  username: string
  password: string
  role: string
  displayName?: string
}

export interface RunningServer {
  url: string
  dataDir: string
  logins: DemoLogin[]
  stop(): Promise<void>
  /** SIGKILL, as a power cut or the OOM killer would: no shutdown code runs; the data directory stays. */
  kill(): Promise<void>
}

/** Start the real server; `dataDir` reuses the data of a server that was stopped or killed (a restart). */
export async function startServer(
  env: Record<string, string> = {},
  options: { dataDir?: string } = {},
): Promise<RunningServer> {
  if (!existsSync(join(ROOT, 'dist/index.html')))
    throw new Error('dist/ is missing: run `npm run build` first')
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'gridpatrol-e2e-'))
  const server = await startServerProcess(dataDir, env)
  return {
    url: server.url,
    dataDir,
    logins: readDemoLogins(dataDir),
    async stop() {
      await server.stop()
      rmSync(dataDir, { recursive: true, force: true })
    },
    kill: () => server.kill(),
  }
}

function readDemoLogins(dataDir: string): DemoLogin[] {
  const raw: unknown = JSON.parse(readFileSync(join(dataDir, 'demo-logins.json'), 'utf8'))
  const list = Array.isArray(raw)
    ? raw
    : ((raw as { logins?: unknown[]; users?: unknown[] }).logins ??
      (raw as { users?: unknown[] }).users ??
      [])
  return list as DemoLogin[]
}

export function loginFor(server: RunningServer, role: string): DemoLogin {
  const login = server.logins.find((l) => l.role === role)
  if (!login) throw new Error(`no demo login with role ${role}`)
  return login
}

export interface Device {
  context: BrowserContext
  page: Page
  /** Content-Security-Policy violations the page reported (the server's CSP has no 'unsafe-inline'). */
  cspViolations: string[]
  close(): Promise<void>
}

/**
 * A fresh "phone": its own persistent profile, hence its own IndexedDB, service worker and device id. With
 * `profileDir`, the phone keeps that profile (the caller removes it): another browser can open it afterwards.
 */
export async function openDevice(options: { profileDir?: string } = {}): Promise<Device> {
  const profile = options.profileDir ?? mkdtempSync(join(tmpdir(), 'gridpatrol-profile-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 390, height: 844 },
    locale: 'zh-CN',
    serviceWorkers: 'allow',
  })
  const page = context.pages()[0] ?? (await context.newPage())
  const cspViolations: string[] = []
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text())
  })
  return {
    context,
    page,
    cspViolations,
    async close() {
      await context.close()
      if (!options.profileDir) rmSync(profile, { recursive: true, force: true })
    },
  }
}

/** Wait until a service worker controls the page (the first visit is not controlled until a reload). */
export async function waitForServiceWorkerControl(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready
  })
  if (!(await page.evaluate(() => navigator.serviceWorker.controller !== null))) {
    await page.reload()
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null)
  }
}

export async function apiLogin(
  server: RunningServer,
  login: DemoLogin,
  deviceId = 'e2e-api-check',
): Promise<string> {
  const response = await fetch(`${server.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: login.username, password: login.password, deviceId }),
  })
  if (!response.ok) throw new Error(`login failed: ${response.status} ${await response.text()}`)
  return ((await response.json()) as { accessToken: string }).accessToken
}

export async function logIn(page: Page, server: Pick<RunningServer, 'url'>, login: DemoLogin): Promise<void> {
  await page.goto(`${server.url}/`)
  await page.getByTestId('login-username').fill(login.username)
  await page.getByTestId('login-password').fill(login.password)
  await page.getByTestId('login-submit').click()
  await page.getByTestId('unsynced-count').waitFor()
}

/** The number in the home screen's 未同步 N 条. */
export async function unsyncedCount(page: Page): Promise<number> {
  const text = (await page.getByTestId('unsynced-count').textContent()) ?? ''
  const match = /\d+/.exec(text)
  if (!match) throw new Error(`no number in unsynced count: ${text}`)
  return Number(match[0])
}

/** Fill a form field by its test id (on the input itself, or on a wrapper around it). */
export async function fillField(page: Page, field: string, value: string): Promise<void> {
  const target = page.getByTestId(`field-${field}`)
  const isInput = await target.evaluate((el) => el.tagName === 'INPUT' || el.tagName === 'TEXTAREA')
  await (isInput ? target : target.locator('input, textarea').first()).fill(value)
}

/** One record as the device's IndexedDB holds it (read raw, as the app stored it). */
export interface DeviceRecord {
  id: string
  kind: string
  fields: Record<string, unknown>
  stamps: Record<string, string>
  deleted: number
  pending: number
}

/** The device's own state, read straight from its IndexedDB ('gridpatrol'): records, queued and refused ops. */
export async function deviceState(
  page: Page,
): Promise<{ records: DeviceRecord[]; outbox: number; refused: number }> {
  return page.evaluate(
    () =>
      new Promise<{ records: DeviceRecord[]; outbox: number; refused: number }>((done, fail) => {
        const open = indexedDB.open('gridpatrol')
        open.onerror = () => fail(open.error ?? new Error('cannot open gridpatrol'))
        open.onsuccess = () => {
          const db = open.result
          const tx = db.transaction(['records', 'outbox', 'refused'], 'readonly')
          const records = tx.objectStore('records').getAll()
          const outbox = tx.objectStore('outbox').count()
          const refused = tx.objectStore('refused').count()
          tx.oncomplete = () => {
            db.close()
            done({
              records: (records.result as DeviceRecord[]).map((r) => ({
                id: r.id,
                kind: r.kind,
                fields: r.fields,
                stamps: r.stamps,
                deleted: r.deleted,
                pending: r.pending,
              })),
              outbox: outbox.result,
              refused: refused.result,
            })
          }
          tx.onerror = () => fail(tx.error ?? new Error('read failed'))
        }
      }),
  )
}

/** Every record the user may see, as the server holds it, paged through the sync API as device `deviceId`. */
export async function serverRecords(
  server: RunningServer,
  { token, deviceId }: { token: string; deviceId: string },
): Promise<{ id: string; kind: string; fields: Record<string, unknown>; stamps: Record<string, string> }[]> {
  const records: {
    id: string
    kind: string
    fields: Record<string, unknown>
    stamps: Record<string, string>
  }[] = []
  for (let since = 0; ;) {
    const query = new URLSearchParams({ deviceId, since: String(since), limit: '5000', protocol: '1' })
    const response = await fetch(`${server.url}/api/sync/pull?${query}`, {
      headers: { authorization: `Bearer ${token}` },
    })
    if (!response.ok) throw new Error(`pull failed: ${response.status} ${await response.text()}`)
    const page = (await response.json()) as {
      records: typeof records
      cursor: number
      more: boolean
    }
    records.push(...page.records)
    if (!page.more) return records
    since = page.cursor
  }
}

/**
 * A phone that logged in through the UI, is controlled by the service worker (so it works offline from here on) and
 * has nothing left to push. `devices` (the file's list, closed after it) gets it.
 */
export async function phoneReady(
  server: Pick<RunningServer, 'url'>,
  login: DemoLogin,
  devices: Device[],
): Promise<Device> {
  const phone = await openDevice()
  devices.push(phone)
  await logIn(phone.page, server, login)
  await waitForServiceWorkerControl(phone.page)
  await expect.poll(() => unsyncedCount(phone.page), { timeout: 30_000 }).toBe(0)
  return phone
}

/**
 * Take the phone offline and queue `count` new households in `gridId` through the import screen (addresses start
 * with `prefix`); returns the rows once the home screen counts them all unsynced.
 */
export async function queueHouseholdsOffline(
  phone: Device,
  server: Pick<RunningServer, 'url'>,
  gridId: string,
  prefix: string,
  count: number,
): Promise<{ gridId: string; address: string; headName: string }[]> {
  await phone.context.setOffline(true)
  const rows = Array.from({ length: count }, (_, n) => ({
    gridId,
    address: `${prefix}${n}号`,
    headName: `户主${n}`,
  }))
  await importHouseholds(phone.page, server, rows)
  await phone.page.getByTestId('tab-home').click()
  await expect.poll(() => unsyncedCount(phone.page), { timeout: 30_000 }).toBe(count)
  return rows
}

/**
 * Queue households on the device through its own 批量导入 screen (one CSV, one transaction, one op per row): the way
 * to put hundreds of changes in the outbox in a few seconds. Works offline once a service worker controls the page.
 */
export async function importHouseholds(
  page: Page,
  server: Pick<RunningServer, 'url'>,
  rows: { gridId: string; address: string; headName: string }[],
): Promise<void> {
  const csv = [
    '\uFEFF网格编码,地址,住房情况,户主姓名',
    ...rows.map((row) => `${row.gridId},${row.address},自有,${row.headName}`),
  ].join('\r\n')
  await page.goto(`${server.url}/import`)
  await page.getByTestId('import-file').setInputFiles({
    name: '住户.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(csv, 'utf8'),
  })
  await page.getByTestId('import-summary').waitFor()
  const valid = await page.getByTestId('import-valid-row').count()
  if (valid !== rows.length) throw new Error(`only ${valid} of ${rows.length} import rows are valid`)
  await page.getByTestId('import-run').click()
  await page.getByTestId('import-preview').waitFor({ state: 'detached', timeout: 60_000 })
}

/**
 * Shift the device's wall clock (Date, Date.now) by the number of ms stored in localStorage['e2e-clock-shift'],
 * read when each page starts: set it with `setDeviceClockShift` and reload. performance.now() is left alone.
 */
export async function installDeviceClockShift(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    let shift = 0
    try {
      shift = Number(globalThis.localStorage?.getItem('e2e-clock-shift') ?? 0) || 0
    } catch {
      // no storage on this origin (about:blank)
    }
    if (shift === 0) return
    const RealDate = Date
    const ShiftedDate = function (this: unknown, ...args: unknown[]) {
      if (!new.target) return new RealDate(RealDate.now() + shift).toString()
      return args.length === 0
        ? new RealDate(RealDate.now() + shift)
        : new (RealDate as unknown as new (...a: unknown[]) => Date)(...args)
    } as unknown as DateConstructor
    Object.setPrototypeOf(ShiftedDate, RealDate)
    Object.defineProperty(ShiftedDate, 'prototype', { value: RealDate.prototype })
    ShiftedDate.now = () => RealDate.now() + shift
    globalThis.Date = ShiftedDate
  })
}

/** See installDeviceClockShift; takes effect at the next page load. */
export async function setDeviceClockShift(page: Page, shiftMs: number): Promise<void> {
  await page.evaluate((shift) => localStorage.setItem('e2e-clock-shift', String(shift)), shiftMs)
}

/** Logs in through the API as device `deviceId`: the token and the ids of the user's areas (a worker's grid first). */
export async function apiSession(
  server: RunningServer,
  login: DemoLogin,
  deviceId: string,
): Promise<{ token: string; deviceId: string; areaIds: string[] }> {
  const response = await fetch(`${server.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: login.username, password: login.password, deviceId }),
  })
  if (!response.ok) throw new Error(`login failed: ${response.status} ${await response.text()}`)
  const body = (await response.json()) as { accessToken: string; user: { areaIds: string[] } }
  return { token: body.accessToken, deviceId, areaIds: body.user.areaIds }
}

/**
 * Another device's households, pushed straight through the sync API (batches of MAX_PUSH_OPS): server-side data for
 * a device under test to pull. Addresses are `${prefix}${n}号`; op seqs start at `firstSeq`.
 */
export async function pushHouseholds(
  server: RunningServer,
  session: { token: string; deviceId: string },
  gridId: string,
  count: number,
  prefix: string,
  firstSeq = 1,
): Promise<void> {
  const ops: Op[] = Array.from({ length: count }, (_, n) => {
    const fields = { gridId, address: `${prefix}${n}号`, housing: 'owned', headName: `户主${n}` }
    return {
      type: 'put',
      seq: firstSeq + n,
      kind: 'household',
      id: crypto.randomUUID(),
      stamp: formatStamp({ ms: Date.now(), counter: n % 0x10000, node: session.deviceId }),
      base: Object.fromEntries(Object.keys(fields).map((field) => [field, null])),
      create: true,
      fields,
    }
  })
  for (let at = 0; at < ops.length; at += MAX_PUSH_OPS) {
    const response = await fetch(`${server.url}/api/sync/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${session.token}` },
      body: JSON.stringify({
        protocol: PROTOCOL_VERSION,
        deviceId: session.deviceId,
        ops: ops.slice(at, at + MAX_PUSH_OPS),
      }),
    })
    const body = (await response.json()) as { results: { status: string }[] }
    if (!response.ok || body.results.some((result) => result.status !== 'applied'))
      throw new Error(`push refused: ${response.status} ${JSON.stringify(body).slice(0, 500)}`)
  }
}

/**
 * Nothing lost, nothing doubled: the server and the device each hold every one of `rows` (households whose address
 * starts with `prefix`) exactly once, by id and by content, the same ids on both; the device has nothing queued or
 * refused.
 */
export async function expectHouseholdsOnce(
  server: RunningServer,
  session: { token: string; deviceId: string },
  page: Page,
  prefix: string,
  rows: { address: string; headName: string }[],
): Promise<void> {
  const mine = (record: { fields: Record<string, unknown> }) =>
    String(record.fields.address ?? '').startsWith(prefix)
  const onServer = (await serverRecords(server, session)).filter(mine)
  const local = await deviceState(page)
  const onDevice = local.records.filter(mine)
  const expected = rows.map((row) => `${row.address}/${row.headName}`).sort()
  for (const records of [onServer, onDevice]) {
    expect(new Set(records.map((record) => record.id)).size).toBe(records.length)
    expect(
      records.map((record) => `${String(record.fields.address)}/${String(record.fields.headName)}`).sort(),
    ).toEqual(expected)
  }
  expect(onDevice.map((record) => record.id).sort()).toEqual(onServer.map((record) => record.id).sort())
  expect(onDevice.filter((record) => record.pending !== 0)).toEqual([])
  expect({ outbox: local.outbox, refused: local.refused }).toEqual({ outbox: 0, refused: 0 })
}

export interface DeployProxy {
  /** Where the device goes instead of the server (another port, so another origin with its own service worker). */
  url: string
  /** How many times /sw.js of each version was served. */
  served: Map<number, number>
  /** Deploy a new version: from now on /sw.js differs from the built one (a comment naming the version). */
  deploy(version: number): void
  stop(): Promise<void>
}

/**
 * A loopback proxy in front of `server` that can "deploy" a new app version: everything passes through untouched
 * except /sw.js, which gets a trailing comment naming the deployed version once `deploy` was called, as a new build
 * would (the browser installs a service worker whose bytes changed). Version 1 is the build as it is.
 */
export async function startDeployProxy(server: RunningServer): Promise<DeployProxy> {
  const target = new URL(server.url)
  let version = 1
  const served = new Map<number, number>()
  const proxy = createHttpServer((incoming, outgoing) => {
    const isServiceWorker = (incoming.url ?? '').split('?')[0] === '/sw.js'
    const headers = { ...incoming.headers, host: target.host }
    if (isServiceWorker) delete headers['accept-encoding']
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers },
      (answer) => {
        if (!isServiceWorker || answer.statusCode !== 200) {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(outgoing)
          return
        }
        const chunks: Buffer[] = []
        answer.on('data', (chunk: Buffer) => chunks.push(chunk))
        answer.on('end', () => {
          const deployed = version
          served.set(deployed, (served.get(deployed) ?? 0) + 1)
          const body = Buffer.concat([
            ...chunks,
            ...(deployed === 1 ? [] : [Buffer.from(`\n// e2e deploy ${deployed}\n`)]),
          ])
          const {
            'content-length': _length,
            etag: _etag,
            'last-modified': _modified,
            ...rest
          } = answer.headers
          outgoing.writeHead(200, { ...rest, 'content-length': String(body.length) })
          outgoing.end(body)
        })
      },
    )
    upstream.on('error', () => outgoing.destroy())
    incoming.pipe(upstream)
  })
  const port = await freePort()
  await new Promise<void>((done) => proxy.listen(port, '127.0.0.1', done))
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    deploy(next) {
      version = next
    },
    stop: () =>
      new Promise<void>((done) => {
        proxy.closeAllConnections()
        proxy.close(() => done())
      }),
  }
}

/**
 * A push request as the device sent it (`raw`, byte for byte) and as the server reads it (`ops`): the app gzips push
 * bodies of 1 KB or more (Content-Encoding: gzip), so a route handler must not read them as text.
 */
export async function pushRequest(request: Request): Promise<{ raw: Buffer; ops: { seq: number }[] }> {
  const raw = request.postDataBuffer() ?? Buffer.alloc(0)
  const gzipped = (await request.headerValue('content-encoding')) === 'gzip'
  const json = (gzipped ? gunzipSync(raw) : raw).toString('utf8')
  return { raw, ops: (JSON.parse(json) as { ops: { seq: number }[] }).ops }
}
