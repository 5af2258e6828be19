/**
 * Issue 5's "Done when" for conflict review, in a real Chromium: two devices edit the same household field while
 * apart, both sync; the leader sees the conflict in the queue, restores the overwritten value with one action (an
 * ordinary edit that syncs), and afterwards the server holds the restored value and the queue is empty.
 * The second device is the API with its own device id (a phone is a browser profile; the API keeps the test short).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatStamp } from '#shared/sync/hlc.ts'
import { PROTOCOL_VERSION } from '#shared/sync/protocol.ts'
import {
  apiLogin,
  fillField,
  logIn,
  loginFor,
  openDevice,
  startServer,
  unsyncedCount,
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

interface ServerRecord {
  id: string
  fields: Record<string, unknown>
  stamps: Record<string, string>
}

async function api<T>(
  path: string,
  token: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  const response = await fetch(`${server.url}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  })
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`)
  return (await response.json()) as T
}

describe('conflict review', () => {
  it('a conflict two devices made reaches the leader’s queue and is reversed with one action', async () => {
    const worker = loginFor(server, 'worker')
    const SECOND = 'e2e-second-phone'
    const secondToken = await apiLogin(server, worker, SECOND)

    // A household of the worker's grids that the town leader also covers.
    const leaderToken = await apiLogin(server, loginFor(server, 'leader'), 'e2e-leader-check')
    const pulled = await api<{ records: (ServerRecord & { kind: string })[] }>(
      `/api/sync/pull?deviceId=${SECOND}&since=0&limit=500&protocol=${PROTOCOL_VERSION}`,
      secondToken,
    )
    let household: ServerRecord | null = null
    for (const record of pulled.records.filter((r) => r.kind === 'household')) {
      const seen = await fetch(`${server.url}/api/records/household/${record.id}`, {
        headers: { authorization: `Bearer ${leaderToken}` },
      })
      if (seen.ok) {
        household = record
        break
      }
    }
    if (!household) throw new Error('no household both the worker and the leader cover')
    const id = household.id
    const base = household.stamps.headName!

    // The worker's phone, offline, changes the head of household.
    const phone = await openDevice()
    devices.push(phone)
    await logIn(phone.page, server, worker)
    await expect.poll(() => unsyncedCount(phone.page), { timeout: 30_000 }).toBe(0)
    await phone.page.goto(`${server.url}/records/household/${id}`)
    await phone.page.getByTestId('field-headName').waitFor()
    await phone.context.setOffline(true)
    await fillField(phone.page, 'headName', '手机甲改的名字')
    await phone.page.getByTestId('form-save').click()
    await phone.page.getByTestId('tab-home').click()
    await expect.poll(() => unsyncedCount(phone.page)).toBe(1)

    // The second device edits the same field from the same base, later: its write wins.
    const push = await api<{ results: { status: string }[] }>('/api/sync/push', secondToken, {
      method: 'POST',
      body: {
        protocol: PROTOCOL_VERSION,
        deviceId: SECOND,
        ops: [
          {
            type: 'put',
            seq: 1,
            kind: 'household',
            id,
            stamp: formatStamp({ ms: Date.now() + 60_000, counter: 0, node: SECOND }),
            base: { headName: base },
            create: false,
            fields: { headName: '手机乙改的名字' },
          },
        ],
      },
    })
    expect(push.results.map((r) => r.status)).toEqual(['applied'])

    // The phone comes back online and syncs: its edit loses, and is kept as a conflict.
    await phone.context.setOffline(false)
    await expect.poll(() => unsyncedCount(phone.page), { timeout: 30_000 }).toBe(0)

    // The leader sees it in the queue (the home screen counts it) and restores the phone's value.
    const tablet = await openDevice()
    devices.push(tablet)
    const { page } = tablet
    await logIn(page, server, loginFor(server, 'leader'))
    await expect
      .poll(async () => Number((await page.getByTestId('conflicts-link').getAttribute('data-count')) || 0), {
        timeout: 30_000,
      })
      .toBeGreaterThan(0)
    await expect.poll(() => unsyncedCount(page), { timeout: 30_000 }).toBe(0)
    await page.getByTestId('conflicts-link').click()
    await page.waitForURL('**/conflicts')
    const card = page.getByTestId('conflict-card').filter({ hasText: '手机甲改的名字' })
    await card.waitFor()
    expect(await card.getByTestId('conflict-kept').textContent()).toBe('手机乙改的名字')
    expect(await card.getByTestId('conflict-lost').textContent()).toBe('手机甲改的名字')
    await card.getByTestId('conflict-restore').click()
    await card.waitFor({ state: 'detached' })

    // After the sync the server holds the restored value, and the queue is empty.
    await expect
      .poll(
        async () => (await api<ServerRecord>(`/api/records/household/${id}`, leaderToken)).fields.headName,
        { timeout: 30_000 },
      )
      .toBe('手机甲改的名字')
    await expect
      .poll(async () => (await api<{ total: number }>('/api/conflicts/queue', leaderToken)).total, {
        timeout: 30_000,
      })
      .toBe(0)
    await expect.poll(() => page.getByTestId('conflicts-pending').count(), { timeout: 30_000 }).toBe(0)
    expect(phone.cspViolations).toEqual([])
    expect(tablet.cspViolations).toEqual([])
  })
})
