import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import request from 'supertest'
import { pino } from 'pino'
import type { Point } from '#shared/schemas/records.ts'
import { createApp } from '../../server/app.ts'
import { loadConfig } from '../../server/config.ts'
import { DEMO_COUNTY, seedDemo } from '../../server/seed.ts'
import type { SeedResult } from '../../server/seed.ts'
import type { Area, GeoPolygon } from '../../server/store/SyncStore.ts'
import { openTestStore, type TestStore } from '../fixtures/serverHarness.ts'

const NOW = 1_750_000_000_000
/** Seeding hashes seven passwords at full argon2id cost and writes ~700 ops: generous limits for a loaded 2-core box. */
const SLOW = 60_000

/** Deterministic "random" bytes for the test (xorshift32). */
function fakeRandom(seed: number) {
  let x = seed
  return (size: number) =>
    Uint8Array.from({ length: size }, () => {
      x ^= x << 13
      x ^= x >>> 17
      x ^= x << 5
      return x & 0xff
    })
}

const dir = mkdtempSync(join(tmpdir(), 'gridpatrol-seed-'))
const disposers: (() => Promise<void>)[] = []
async function freshStore(name: string) {
  const { store, dispose } = await openTestStore(dir, name)
  disposers.push(dispose)
  return store
}

let store: TestStore
let seed: SeedResult
beforeAll(async () => {
  store = await freshStore('a')
  seed = await seedDemo(store, { now: NOW, random: fakeRandom(42) })
}, SLOW)
afterAll(async () => {
  for (const dispose of disposers) await dispose()
  rmSync(dir, { recursive: true, force: true })
})

function bbox(polygon: GeoPolygon) {
  const ring = polygon.coordinates[0]!
  const lngs = ring.map((p) => p[0])
  const lats = ring.map((p) => p[1])
  return {
    west: Math.min(...lngs),
    east: Math.max(...lngs),
    south: Math.min(...lats),
    north: Math.max(...lats),
  }
}

function inside({ lat, lng }: Point, polygon: GeoPolygon): boolean {
  const ring = polygon.coordinates[0]!
  let hit = false
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!
    const [xj, yj] = ring[j]!
    if (yi > lat !== yj > lat && lng < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) hit = !hit
  }
  return hit
}

describe('seedDemo', { timeout: SLOW }, () => {
  it('creates the county, towns, villages and eight grids in 安吉县 with Chinese names', async () => {
    const areas = await store.listAreas()
    const count = (level: Area['level']) => areas.filter((a) => a.level === level).length
    expect([count('county'), count('town'), count('village'), count('grid')]).toEqual([1, 2, 3, 8])
    expect(areas.find((a) => a.level === 'county')).toMatchObject({ id: DEMO_COUNTY, name: '安吉县' })
    for (const area of areas) expect(area.name).toMatch(/[\u4e00-\u9fff]/)
    for (const grid of areas.filter((a) => a.level === 'grid')) {
      expect(grid.id.startsWith(grid.parentId!)).toBe(true)
      const box = bbox(grid.geometry!)
      expect(box.south).toBeGreaterThanOrEqual(30.5)
      expect(box.north).toBeLessThanOrEqual(30.8)
      expect(box.west).toBeGreaterThanOrEqual(119.5)
      expect(box.east).toBeLessThanOrEqual(119.8)
      expect(inside(grid.centroid!, grid.geometry!)).toBe(true)
    }
  })

  it('draws grid polygons that do not overlap', async () => {
    const boxes = (await store.listAreas()).filter((a) => a.level === 'grid').map((g) => bbox(g.geometry!))
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i]!, boxes[j]!]
        const overlap = a.west < b.east && b.west < a.east && a.south < b.north && b.south < a.north
        expect(overlap, `grids ${i} and ${j} overlap`).toBe(false)
      }
    }
  })

  it('writes ~560 records through sync (members and visits included), each in its own grid, with history and no conflicts', async () => {
    const grids = new Map((await store.listAreas()).filter((a) => a.level === 'grid').map((g) => [g.id, g]))
    const records = await store.listRecordsSince(0, 10_000)
    const byKind = (kind: string) => records.filter((r) => r.kind === kind)
    expect([byKind('household').length, byKind('place').length, byKind('incident').length]).toEqual([
      300, 60, 80,
    ])
    // Members and a visit for the first 40 households: every one valid (the push refuses bad ID numbers).
    expect(byKind('visit')).toHaveLength(40)
    expect(byKind('person').length).toBeGreaterThanOrEqual(80)
    expect(byKind('person').every((p) => typeof p.fields.idNumber === 'string')).toBe(true)
    const households = new Map(byKind('household').map((h) => [h.id, h]))
    for (const p of byKind('person')) {
      expect(households.get(p.fields.householdId as string)?.scope.gridId, p.id).toBe(p.scope.gridId)
    }
    for (const record of records) {
      const grid = grids.get(record.scope.gridId)
      expect(grid, record.id).toBeDefined()
      expect(record.fields.gridId).toBe(record.scope.gridId)
      if (record.kind === 'person' || record.kind === 'visit') continue
      expect(inside(record.fields.location as Point, grid!.geometry!), record.id).toBe(true)
      expect(Object.values(record.stamps).every((s) => s.endsWith(':seed-device'))).toBe(true)
    }
    const statuses = new Set(byKind('incident').map((r) => r.fields.status))
    expect(statuses.size).toBeGreaterThanOrEqual(8)
    expect(new Set(byKind('place').map((r) => r.fields.type)).size).toBe(10)
    expect(new Set(byKind('incident').map((r) => r.fields.category)).size).toBeGreaterThanOrEqual(6)
    const closed = byKind('incident').find((r) => r.fields.status === 'closed')!
    const history = await store.listWrites(closed.id)
    expect(history.filter((w) => w.field === 'status').map((w) => w.value)).toEqual([
      'reported',
      'accepted',
      'dispatched',
      'in_progress',
      'handled',
      'verified',
      'closed',
    ])
    const conflicts = await store.kysely.selectFrom('conflicts').select('id').execute()
    expect(conflicts).toEqual([])
  })

  it('returns a random password per user that logs in, and stores no password in clear', async () => {
    expect(seed.seeded).toBe(true)
    expect(seed.logins.map((l) => l.role).sort()).toEqual(
      ['admin', 'handler', 'leader', 'leader', 'worker', 'worker', 'worker'].sort(),
    )
    const passwords = seed.logins.map((l) => l.password)
    expect(new Set(passwords).size).toBe(passwords.length)
    for (const p of passwords) expect(p).toMatch(/^[a-z2-9]{12}$/)
    const hashes = await store.kysely.selectFrom('users').select('password_hash').execute()
    for (const { password_hash } of hashes) {
      expect(password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/)
      for (const p of passwords) expect(password_hash).not.toContain(p)
    }
    const worker = seed.logins.find((l) => l.role === 'worker')!
    const app = createApp({
      store,
      config: loadConfig({ LOG_LEVEL: 'silent' }),
      now: () => NOW,
      logger: pino({ level: 'silent' }),
    })
    const res = await request(app)
      .post('/api/auth/login')
      .send({ username: worker.username, password: worker.password, deviceId: 'phone-0001' })
    expect(res.status).toBe(200)
    expect(res.body.user.areaIds).toEqual(worker.areaIds)
  })

  it('has a user of every role over the demo county, each pulling only what their areas cover', async () => {
    const byName = new Map(seed.logins.map((l) => [l.username, l]))
    const areas = await store.listAreas()
    const levelOf = (id: string) => areas.find((a) => a.id === id)?.level
    expect(byName.get('admin')).toMatchObject({ role: 'admin', areaIds: [DEMO_COUNTY] })
    expect(byName.get('leader_town')!.areaIds.map(levelOf)).toEqual(['town'])
    expect(byName.get('leader_village')!.areaIds.map(levelOf)).toEqual(['village'])
    expect(byName.get('handler')).toMatchObject({ role: 'handler' })
    expect(byName.get('handler')!.areaIds.map(levelOf)).toEqual(['town'])
    const app = createApp({
      store,
      config: loadConfig({ LOG_LEVEL: 'silent' }),
      now: () => NOW,
      logger: pino({ level: 'silent' }),
    })
    const all = await store.listRecordsSince(0, 10_000)
    const covered = (areaIds: string[]) =>
      all.filter((r) => Object.values(r.scope).some((id) => areaIds.includes(id)))
    for (const user of seed.logins) {
      const deviceId = `phone-${user.username.replace('_', '-')}`
      const login = await request(app)
        .post('/api/auth/login')
        .send({ username: user.username, password: user.password, deviceId })
      expect(login.status, user.username).toBe(200)
      const res = await request(app)
        .get('/api/sync/pull')
        .query({ deviceId, protocol: 1, limit: 5000 })
        .set('Authorization', `Bearer ${login.body.accessToken as string}`)
      const expected = covered(user.areaIds).filter((r) => user.role !== 'handler' || r.kind === 'incident')
      const pulled = (res.body.records as { id: string }[]).map((r) => r.id).sort()
      expect(pulled, user.username).toEqual(expected.map((r) => r.id).sort())
      if (user.role !== 'admin') expect(pulled.length, user.username).toBeLessThan(all.length)
      expect(pulled.length, user.username).toBeGreaterThan(0)
    }
  })

  it('is idempotent: a second run on a seeded database does nothing', async () => {
    const before = await store.listRecordsSince(0, 10_000)
    const again = await seedDemo(store, { now: NOW + 1000, random: fakeRandom(7) })
    expect(again).toEqual({ seeded: false, logins: [] })
    expect(await store.listRecordsSince(0, 10_000)).toEqual(before)
    const users = await store.kysely.selectFrom('users').select('id').execute()
    expect(users).toHaveLength(7)
  })

  it('is deterministic given the same random, and varies the passwords with it', async () => {
    const same = await freshStore('b')
    const other = await freshStore('c')
    const [b, c] = await Promise.all([
      seedDemo(same, { now: NOW, random: fakeRandom(42) }),
      seedDemo(other, { now: NOW, random: fakeRandom(43) }),
    ])
    expect(b.logins).toEqual(seed.logins)
    expect(c.logins.map((l) => l.password)).not.toEqual(seed.logins.map((l) => l.password))
    expect(await same.listAreas()).toEqual(await store.listAreas())
    expect(await same.listRecordsSince(0, 10_000)).toEqual(await store.listRecordsSince(0, 10_000))
    const userRows = (s: TestStore) => s.kysely.selectFrom('users').selectAll().orderBy('username').execute()
    expect(await userRows(same)).toEqual(await userRows(store))
  })
})
