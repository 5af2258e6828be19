/**
 * Fault: a phone whose clock is off by a day, in a real Chromium (Date shifted by an init script) against the real
 * server. What the hybrid logical clock (src/shared/sync/hlc.ts) and the server's drift check (syncService.ts,
 * MAX_CLOCK_DRIFT_MS, 5 min by default) promise, and nothing more:
 * - Behind by a day: the device's clock never goes behind a stamp it has received (every server answer carries the
 *   server's clock), so its edits are stamped after everything it has seen. Its edit beats the value it had pulled;
 *   a later edit from a correct device that it had not seen beats its edit (and the loser is kept as a conflict).
 * - Ahead by a day: the server refuses its stamps (clock_skew, with the reason) and stores nothing of them; the
 *   device keeps the edit visibly refused, and its clock comes back to the server's (deviceClock.ts, rewindPastSkew):
 *   once the phone's clock is set right, a retry is stamped now and the server takes it.
 * FAULT_RUNS rounds each (default 1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatStamp } from '#shared/sync/hlc.ts'
import { PROTOCOL_VERSION } from '#shared/sync/protocol.ts'
import {
  apiSession,
  deviceState,
  fillField,
  installDeviceClockShift,
  logIn,
  loginFor,
  openDevice,
  pushHouseholds,
  serverRecords,
  setDeviceClockShift,
  startServer,
  unsyncedCount,
  waitForServiceWorkerControl,
  type Device,
  type RunningServer,
} from './harness.ts'

const DAY = 86_400_000
const RUNS = Number(process.env.FAULT_RUNS ?? 1)
const TIMEOUT = Math.max(180_000, RUNS * 60_000)

let server: RunningServer
const devices: Device[] = []

beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  for (const device of devices) await device.close()
  await server?.stop()
})

type Session = Awaited<ReturnType<typeof apiSession>>
type Household = Awaited<ReturnType<typeof serverRecords>>[number]

/** A correct device's edit of a household, stamped with the real time now, built on the stamps in `base`. */
async function correctEdit(
  session: Session,
  seq: number,
  id: string,
  fields: Record<string, unknown>,
  base: Record<string, string | null>,
): Promise<string> {
  const stamp = formatStamp({ ms: Date.now(), counter: 0, node: session.deviceId })
  const response = await fetch(`${server.url}/api/sync/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${session.token}` },
    body: JSON.stringify({
      protocol: PROTOCOL_VERSION,
      deviceId: session.deviceId,
      ops: [{ type: 'put', seq, kind: 'household', id, stamp, base, create: false, fields }],
    }),
  })
  const body = (await response.json()) as { results: { status: string }[] }
  expect(body.results.map((result) => result.status)).toEqual(['applied'])
  return stamp
}

async function onServer(session: Session, id: string): Promise<Household | undefined> {
  return (await serverRecords(server, session)).find((record) => record.id === id)
}

/** A phone with its clock shifted by `shiftMs`, logged in (its first sync done). */
async function skewedPhone(shiftMs: number): Promise<Device> {
  const phone = await openDevice()
  devices.push(phone)
  await installDeviceClockShift(phone.context)
  await phone.page.goto(`${server.url}/login`)
  await setDeviceClockShift(phone.page, shiftMs)
  await phone.page.reload()
  const shown = await phone.page.evaluate(() => Date.now())
  expect(Math.abs(shown - Date.now() - shiftMs)).toBeLessThan(60_000)
  await logIn(phone.page, server, loginFor(server, 'worker'))
  await waitForServiceWorkerControl(phone.page)
  await expect.poll(() => unsyncedCount(phone.page), { timeout: 30_000 }).toBe(0)
  return phone
}

async function editOnPhone(phone: Device, id: string, fields: Record<string, string>): Promise<void> {
  await phone.page.goto(`${server.url}/records/household/${id}`)
  await phone.page.getByTestId('field-headName').waitFor()
  for (const [field, value] of Object.entries(fields)) await fillField(phone.page, field, value)
  await phone.page.getByTestId('form-save').click()
  await phone.page.getByTestId('tab-home').click()
}

describe('a device clock off by a day', () => {
  it(
    'behind: its edit beats what it had seen, and loses to a later edit from a correct device it had not seen',
    async () => {
      for (let round = 0; round < RUNS; round++) {
        const worker = loginFor(server, 'worker')
        const correct = await apiSession(server, worker, `e2e-skew-correct-${round}`)
        const prefix = `时钟慢一天测试村${Date.now()}-`
        await pushHouseholds(server, correct, correct.areaIds[0]!, 1, prefix)
        const created = (await serverRecords(server, correct)).find((r) =>
          String(r.fields.address).startsWith(prefix),
        )!

        const phone = await skewedPhone(-DAY)
        const { page, context } = phone
        // The correct device renames the head; the slow phone pulls it.
        const seen = await correctEdit(
          correct,
          2,
          created.id,
          { headName: '正确设备先改' },
          {
            headName: created.stamps.headName!,
          },
        )
        await page.getByTestId('sync-now').click()
        await expect
          .poll(
            async () => (await deviceState(page)).records.find((r) => r.id === created.id)?.fields.headName,
            { timeout: 30_000 },
          )
          .toBe('正确设备先改')

        // Offline, the slow phone edits the name (built on what it saw) and the notes.
        await context.setOffline(true)
        await editOnPhone(phone, created.id, { headName: '慢手机后改', notes: '慢手机的备注' })
        await expect.poll(() => unsyncedCount(page), { timeout: 30_000 }).toBe(1)
        const local = (await deviceState(page)).records.find((r) => r.id === created.id)!
        const phoneStamp = local.stamps.headName!
        expect(local.stamps.notes).toBe(phoneStamp)
        // A day behind on the wall clock, yet stamped after the stamp it had seen.
        expect(phoneStamp > seen).toBe(true)

        // Meanwhile, later in real time, the correct device writes the notes without having seen the phone's edit.
        await new Promise((resolve) => setTimeout(resolve, 5))
        const later = await correctEdit(
          correct,
          3,
          created.id,
          { notes: '正确设备后写的备注' },
          {
            notes: created.stamps.notes ?? null,
          },
        )
        expect(later > phoneStamp).toBe(true)

        await context.setOffline(false)
        await expect.poll(() => unsyncedCount(page), { timeout: 30_000 }).toBe(0)
        await page.getByTestId('sync-now').click()
        await expect
          .poll(
            async () => (await deviceState(page)).records.find((r) => r.id === created.id)?.fields.notes,
            {
              timeout: 30_000,
            },
          )
          .toBe('正确设备后写的备注')

        const final = await onServer(correct, created.id)
        expect(final?.fields).toMatchObject({ headName: '慢手机后改', notes: '正确设备后写的备注' })
        expect(final?.stamps).toMatchObject({ headName: phoneStamp, notes: later })
        // The phone's superseded notes are kept as the one conflict; its name, built on what it saw, is none.
        const conflicts = await fetch(`${server.url}/api/conflicts?recordId=${created.id}`, {
          headers: { authorization: `Bearer ${correct.token}` },
        })
        expect(conflicts.status).toBe(200)
        const rows = ((await conflicts.json()) as { conflicts: Record<string, unknown>[] }).conflicts
        expect(rows.map((row) => [row.field, row.type, row.winnerValue, row.loserValue])).toEqual([
          ['notes', 'edit', '正确设备后写的备注', '慢手机的备注'],
        ])
        const device = await deviceState(page)
        expect(device.records.find((r) => r.id === created.id)?.fields).toMatchObject({
          headName: '慢手机后改',
          notes: '正确设备后写的备注',
        })
        expect({ outbox: device.outbox, refused: device.refused }).toEqual({ outbox: 0, refused: 0 })
      }
    },
    TIMEOUT,
  )

  it(
    'ahead: its edit is refused as clock_skew and stored nowhere on the server; retried once the clock is set right, it is stamped now and taken',
    async () => {
      for (let round = 0; round < RUNS; round++) {
        const worker = loginFor(server, 'worker')
        const check = await apiSession(server, worker, `e2e-skew-ahead-check-${round}`)
        const prefix = `时钟快一天测试村${Date.now()}-`
        await pushHouseholds(server, check, check.areaIds[0]!, 1, prefix)
        const created = (await serverRecords(server, check)).find((r) =>
          String(r.fields.address).startsWith(prefix),
        )!

        const phone = await skewedPhone(DAY)
        const { page } = phone
        await editOnPhone(phone, created.id, { headName: '快手机改的名字' })
        await page.getByTestId('refused-item').waitFor({ timeout: 30_000 })
        expect(await page.getByTestId('refused-reason').textContent()).toContain('手机时间比服务器快了')
        expect(await unsyncedCount(page)).toBe(0)
        expect((await onServer(check, created.id))?.fields).toEqual(created.fields)
        const refused = await deviceState(page)
        expect({ outbox: refused.outbox, refused: refused.refused }).toEqual({ outbox: 0, refused: 1 })
        const edited = refused.records.find((r) => r.id === created.id)!
        expect(edited.fields.headName).toBe('快手机改的名字')
        expect(Number(edited.stamps.headName!.slice(0, 13))).toBeGreaterThan(Date.now() + DAY - 60_000)

        // The phone's clock is set right (自动获取网络时间), as the refusal asks, and the user retries the edit.
        await setDeviceClockShift(page, 0)
        await page.reload()
        expect(Math.abs((await page.evaluate(() => Date.now())) - Date.now())).toBeLessThan(60_000)
        await page.getByTestId('refused-retry').click()
        await expect.poll(() => unsyncedCount(page), { timeout: 30_000 }).toBe(1)
        await expect.poll(() => unsyncedCount(page), { timeout: 30_000 }).toBe(0)
        // The refused stamps reached no one, so the clock came back to the server's: the retry is stamped now (after
        // everything the server holds) and taken; nothing is left refused or queued on the phone.
        const retried = await deviceState(page)
        expect({ outbox: retried.outbox, refused: retried.refused }).toEqual({ outbox: 0, refused: 0 })
        await expect.poll(() => page.getByTestId('refused-item').count(), { timeout: 30_000 }).toBe(0)
        const restamped = retried.records.find((r) => r.id === created.id)!
        expect(restamped.fields.headName).toBe('快手机改的名字')
        expect(Number(restamped.stamps.headName!.slice(0, 13))).toBeLessThan(Date.now() + 60_000)
        expect(restamped.stamps.headName! > created.stamps.headName!).toBe(true)
        expect((await onServer(check, created.id))?.fields).toEqual({
          ...created.fields,
          headName: '快手机改的名字',
        })
      }
    },
    TIMEOUT,
  )
})
