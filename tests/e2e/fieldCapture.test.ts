/**
 * Field capture offline, in a real Chromium: a household with three members and a photo, a reload while offline,
 * then online: the household, its members and the photo (original and thumbnail) are on the server.
 */
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { idCheckCharacter } from '#shared/domain/idNumber.ts'
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
let phone: Device | undefined

beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await phone?.close()
  await server?.stop()
})

const idNumber = (birth: string, seq: string) => {
  const first17 = `330523${birth.replaceAll('-', '')}${seq}`
  return first17 + idCheckCharacter(first17)
}
const MEMBERS = [
  { name: '潘建国', gender: 'male', birthDate: '1968-03-12', seq: '011', relation: 'head' },
  { name: '潘阿婆', gender: 'female', birthDate: '1941-11-02', seq: '024', relation: 'parent' },
  { name: '潘小宇', gender: 'male', birthDate: '2015-07-30', seq: '035', relation: 'child' },
] as const

async function addMember(page: Page, member: (typeof MEMBERS)[number]): Promise<void> {
  await page.getByTestId('add-member').click()
  await page.waitForURL('**/records/person/new**')
  await fillField(page, 'name', member.name)
  await fillField(page, 'idNumber', idNumber(member.birthDate, member.seq))
  await page.getByTestId(`field-gender-${member.gender}`).click()
  await fillField(page, 'birthDate', member.birthDate)
  await page.getByTestId(`field-relation-${member.relation}`).click()
  await page.getByTestId('field-populationType-registered').click()
  await page.getByTestId('form-save').click()
  await page.waitForURL(/\/records\/household\/[0-9a-f-]{36}$/)
}

describe('field capture offline', () => {
  it('a household with three members and a photo, captured offline, reaches the server with its thumbnail', async () => {
    const worker = loginFor(server, 'worker')
    phone = await openDevice()
    const { page, context } = phone
    await logIn(page, server, worker)
    await waitForServiceWorkerControl(page)
    await expect.poll(() => unsyncedCount(page), { timeout: 30_000 }).toBe(0)

    await context.setOffline(true)
    const address = `采集测试 ${Date.now()} 号`
    await page.goto(`${server.url}/records/household/new`)
    await fillField(page, 'address', address)
    await fillField(page, 'headName', '潘建国')
    await page.getByTestId('field-housing-owned').click()
    await page.getByTestId('form-save').click()
    await page.waitForURL('**/records/household')
    await page
      .getByTestId('record-search')
      .locator('input')
      .or(page.locator('input[data-testid="record-search"]'))
      .first()
      .fill(address)
    const row = page.getByTestId('record-item').filter({ hasText: address })
    await row.waitFor()
    const householdId = await row.getAttribute('data-record-id')
    await row.click()
    await page.waitForURL(`**/records/household/${householdId}`)

    for (const member of MEMBERS) await addMember(page, member)
    await expect.poll(() => page.getByTestId('member-item').count()).toBe(3)

    // A 2400×1800 camera photo: the phone shrinks it before storing it.
    const jpeg = await sharp({ create: { width: 2400, height: 1800, channels: 3, background: '#4a7' } })
      .jpeg({ quality: 90 })
      .toBuffer()
    await page
      .getByTestId('photo-input')
      .setInputFiles({ name: 'door.jpg', mimeType: 'image/jpeg', buffer: jpeg })
    await page.getByTestId('photo-thumb').waitFor()

    await page.reload()
    await page.getByTestId('member-item').first().waitFor()
    expect(await page.getByTestId('member-item').count()).toBe(3)
    expect(await page.getByTestId('photo-thumb').count()).toBe(1)
    await page.getByTestId('tab-home').click()
    expect(await unsyncedCount(page)).toBeGreaterThanOrEqual(5)

    await context.setOffline(false)
    await page.getByTestId('sync-now').click()
    await expect.poll(() => unsyncedCount(page), { timeout: 30_000 }).toBe(0)

    const token = await apiLogin(server, worker)
    const auth = { authorization: `Bearer ${token}` }
    const pulled = (await (
      await fetch(`${server.url}/api/sync/pull?deviceId=e2e-api-check&since=0&limit=5000&protocol=1`, {
        headers: auth,
      })
    ).json()) as { records: { kind: string; id: string; fields: Record<string, unknown> }[] }
    expect(pulled.records.find((r) => r.id === householdId)?.fields.address).toBe(address)
    const members = pulled.records.filter((r) => r.kind === 'person' && r.fields.householdId === householdId)
    expect(members.map((m) => m.fields.name).sort()).toEqual(MEMBERS.map((m) => m.name).sort())
    const photo = pulled.records.find((r) => r.kind === 'photo' && r.fields.ownerId === householdId)
    const sha = String(photo?.fields.sha256)
    expect(Math.max(Number(photo?.fields.width), Number(photo?.fields.height))).toBeLessThanOrEqual(1600)

    await expect
      .poll(
        async () =>
          (await fetch(`${server.url}/api/photos/${sha}`, { method: 'HEAD', headers: auth })).status,
        {
          timeout: 30_000,
        },
      )
      .toBe(200)
    const original = await fetch(`${server.url}/api/photos/${sha}`, { headers: auth })
    const thumb = await fetch(`${server.url}/api/photos/${sha}/thumb`, { headers: auth })
    expect(thumb.headers.get('content-type')).toMatch(/image\/jpeg/)
    const originalMeta = await sharp(Buffer.from(await original.arrayBuffer())).metadata()
    const thumbMeta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()
    expect(Math.max(originalMeta.width, originalMeta.height)).toBe(1600)
    expect(Math.max(thumbMeta.width, thumbMeta.height)).toBeLessThanOrEqual(320)
    expect(phone.cspViolations).toEqual([])
  })
})
