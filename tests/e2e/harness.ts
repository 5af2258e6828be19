/**
 * End-to-end harness: the real server process (`server/index.ts`, as `npm start` runs it) on 127.0.0.1 with a
 * throwaway data directory, serving the built app from dist/, and Debian's Chromium driven by playwright-core with
 * throwaway persistent profiles (incognito contexts fail installability checks and lack a real service worker life).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

export const ROOT = resolve(import.meta.dirname, '../..')
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

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer()
    probe.once('error', fail)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() =>
        typeof address === 'object' && address ? done(address.port) : fail(new Error('no port')),
      )
    })
  })
}

/** Start the real server; `dataDir` reuses the data of a server that was stopped or killed (a restart). */
export async function startServer(
  env: Record<string, string> = {},
  options: { dataDir?: string } = {},
): Promise<RunningServer> {
  if (!existsSync(join(ROOT, 'dist/index.html')))
    throw new Error('dist/ is missing: run `npm run build` first')
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'gridpatrol-e2e-'))
  const port = await freePort()
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'server/index.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      BASEMAP_URL: '',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`)
    try {
      const response = await fetch(`${url}/api/health`)
      if (response.ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server did not start:\n${output}`)
    await new Promise((r) => setTimeout(r, 200))
  }
  const logins = readDemoLogins(dataDir)
  return {
    url,
    dataDir,
    logins,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))])
        if (child.exitCode === null) child.kill('SIGKILL')
      }
      rmSync(dataDir, { recursive: true, force: true })
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGKILL')
      await exited
    },
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

/** A fresh "phone": its own persistent profile, hence its own IndexedDB, service worker and device id. */
export async function openDevice(): Promise<Device> {
  const profile = mkdtempSync(join(tmpdir(), 'gridpatrol-profile-'))
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
      rmSync(profile, { recursive: true, force: true })
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

export async function logIn(page: Page, server: RunningServer, login: DemoLogin): Promise<void> {
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
