/**
 * The kinds field capture added (person, visit, track, photo) sync through the same scoped push and pull as the
 * first three; and a database made before them (migration 003) is carried over intact by 004_field_capture.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Migrator, sql } from 'kysely'
import { idCheckCharacter } from '#shared/domain/idNumber.ts'
import type { RecordKind } from '#shared/schemas/records.ts'
import { pullResponseSchema, pushResponseSchema } from '#shared/sync/protocol.ts'
import { migrationProvider } from '../../server/store/migrations/migrationProvider.ts'
import { SqliteSyncStore } from '../../server/store/SqliteSyncStore.ts'
import {
  COUNTY,
  GRID_A,
  GRID_D,
  T0,
  TEST_AREAS,
  TOWN,
  addUser,
  createOp,
  householdFields,
  login,
  pull,
  push,
  stamp,
  startTestServer,
} from '../fixtures/serverHarness.ts'
import type { TestServer } from '../fixtures/serverHarness.ts'

const id = (n: number) => `01900000-0000-7000-8000-${String(n).padStart(12, '0')}`
const first17 = '33052319561231002'
const idNumber = `${first17}${idCheckCharacter(first17)}`

/** One record of each new kind in `gridId`, owned by `household`. */
function newKinds(gridId: string, household: string) {
  return {
    household: householdFields({ gridId }),
    person: {
      gridId,
      householdId: household,
      name: '王秀英',
      gender: 'female',
      birthDate: '1956-12-31',
      idNumber,
      phone: null,
      relation: 'spouse',
      populationType: 'registered',
      tags: ['left_behind_elderly', 'disabled'],
      disabilityGrade: 2,
      notes: null,
    },
    visit: {
      gridId,
      targetKind: 'household',
      targetId: household,
      visitedAt: T0 - 3600_000,
      notes: '身体尚好',
    },
    track: {
      gridId,
      startedAt: T0 - 7200_000,
      endedAt: T0 - 3600_000,
      points: [
        [119.601, 30.601, T0 - 7200_000, 8],
        [119.602, 30.603, T0 - 7100_000, 12.5],
      ],
    },
    photo: {
      gridId,
      ownerKind: 'household',
      ownerId: household,
      sha256: 'a'.repeat(64),
      mime: 'image/jpeg',
      width: 1600,
      height: 1200,
      bytes: 321_000,
      takenAt: T0 - 3000_000,
    },
  }
}

describe('new record kinds over scoped sync', () => {
  let server: TestServer
  beforeEach(async () => {
    server = await startTestServer()
  })
  afterEach(() => server.close())

  it('push applies each kind; a worker pulls those of their grid only, a handler none of them', async () => {
    await addUser(server, 'root', 'admin', [COUNTY])
    await addUser(server, 'worker', 'worker', [GRID_A])
    await addUser(server, 'handler', 'handler', [TOWN])
    const root = await login(server, 'root', 'device-root-1')
    const s = stamp(-10_000, 'device-root-1')
    const inA = newKinds(GRID_A, id(1))
    const inD = newKinds(GRID_D, id(101))
    const ops = [
      ...Object.entries(inA).map(([kind, fields], i) =>
        createOp(i + 1, id(i + 1), s, { ...fields }, kind as RecordKind),
      ),
      ...Object.entries(inD).map(([kind, fields], i) =>
        createOp(i + 11, id(i + 101), s, { ...fields }, kind as RecordKind),
      ),
    ]
    const pushed = pushResponseSchema.parse((await push(server, root, 'device-root-1', ops)).body)
    expect(pushed.results.map((r) => r.status)).toEqual(ops.map(() => 'applied'))

    const worker = await login(server, 'worker', 'device-worker-1')
    const seen = pullResponseSchema.parse((await pull(server, worker, 'device-worker-1')).body).records
    expect(seen.map((r) => [r.kind, r.id]).sort()).toEqual(
      Object.keys(inA)
        .map((kind, i) => [kind, id(i + 1)])
        .sort(),
    )
    const person = seen.find((r) => r.kind === 'person')!
    // Workers see phones in clear, but never ID numbers unasked.
    expect(person.fields.idNumber).toBe(`${idNumber.slice(0, 4)}**********${idNumber.slice(-4)}`)
    expect(seen.find((r) => r.kind === 'track')!.fields.points).toEqual(inA.track.points)

    const handler = await login(server, 'handler', 'device-handler-1')
    expect(pullResponseSchema.parse((await pull(server, handler, 'device-handler-1')).body).records).toEqual(
      [],
    )
  })

  it('a worker may delete a visit but not a track (a record of where they walked)', async () => {
    await addUser(server, 'worker', 'worker', [GRID_A])
    const token = await login(server, 'worker', 'device-worker-1')
    const s = stamp(-10_000, 'device-worker-1')
    const fields = newKinds(GRID_A, id(1))
    await push(server, token, 'device-worker-1', [
      createOp(1, id(3), s, { ...fields.visit }, 'visit'),
      createOp(2, id(4), s, { ...fields.track }, 'track'),
    ])
    const d = stamp(-5_000, 'device-worker-1')
    const base = (f: object) => Object.fromEntries(Object.keys(f).map((k) => [k, s]))
    const res = pushResponseSchema.parse(
      (
        await push(server, token, 'device-worker-1', [
          { type: 'delete', seq: 3, kind: 'visit', id: id(3), stamp: d, base: base(fields.visit) },
          { type: 'delete', seq: 4, kind: 'track', id: id(4), stamp: d, base: base(fields.track) },
        ])
      ).body,
    )
    expect(res.results.map((r) => (r.status === 'refused' ? r.code : r.status))).toEqual([
      'applied',
      'forbidden',
    ])
  })

  it('a visit names only the user who records it as its visitor', async () => {
    const me = await addUser(server, 'worker', 'worker', [GRID_A])
    const other = await addUser(server, 'worker2', 'worker', [GRID_A])
    const token = await login(server, 'worker', 'device-worker-1')
    const s = stamp(-10_000, 'device-worker-1')
    const { visit } = newKinds(GRID_A, id(1))
    const res = pushResponseSchema.parse(
      (
        await push(server, token, 'device-worker-1', [
          createOp(1, id(5), s, { ...visit, visitorId: me.id, visitorName: me.displayName }, 'visit'),
          createOp(2, id(6), s, { ...visit, visitorId: other.id, visitorName: other.displayName }, 'visit'),
        ])
      ).body,
    )
    expect(res.results.map((r) => (r.status === 'refused' ? [r.code, r.field] : r.status))).toEqual([
      'applied',
      ['forbidden', 'visitorId'],
    ])
  })
})

describe('migration 004_field_capture', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gridpatrol-migrate-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('keeps the records of a database made before it, with their writes, and then takes every kind', async () => {
    const file = join(dir, 'old.sqlite')
    const old = SqliteSyncStore.open(file)
    const to003 = await new Migrator({ db: old.kysely, provider: migrationProvider }).migrateTo(
      '003_record_exits',
    )
    expect(to003.error).toBeUndefined()
    await old.insertAreas(TEST_AREAS)
    await old.insertUser({
      id: 'u1',
      username: 'u1',
      displayName: 'u1',
      role: 'worker',
      areaIds: [GRID_A],
      passwordHash: 'x',
      createdAt: T0,
    })
    const scope = (await old.scopeOfGrid(GRID_A))!
    const record = {
      id: id(1),
      kind: 'household' as const,
      fields: householdFields(),
      stamps: { address: stamp(0, 'd1') },
      deleted: false,
      seq: 1,
      scope,
      createdAt: T0,
      updatedAt: T0,
    }
    await old.saveRecord(record)
    // The history as it was kept then: one row per field write (migration 006 folds them into one row per op).
    const fieldWrite = (field: string, value: unknown, extra: { base?: string; context?: unknown } = {}) =>
      sql`insert into field_writes (record_id, field, stamp, base, value, context, device_id, user_id, server_seq,
            received_at)
          values (${id(1)}, ${field}, ${stamp(0, 'd1')}, ${extra.base ?? null}, ${JSON.stringify(value)},
            ${extra.context === undefined ? null : JSON.stringify(extra.context)}, 'd1', 'u1', 1, ${T0})`.execute(
        old.kysely,
      )
    await fieldWrite('address', '竹海路 8 号')
    await fieldWrite('tags', ['left_behind_elderly'], { base: stamp(-1, 'd1') })
    await expect(
      old.saveRecord({ ...record, id: id(2), kind: 'person' as 'household', seq: 2 }),
    ).rejects.toThrow(/CHECK/)
    await old.close()

    const store = SqliteSyncStore.open(file)
    try {
      await store.migrate()
      expect(await store.getRecord(id(1))).toEqual(record)
      expect(await store.listWrites(id(1))).toEqual([
        {
          field: 'address',
          stamp: stamp(0, 'd1'),
          base: null,
          value: '竹海路 8 号',
          deviceId: 'd1',
          userId: 'u1',
          serverSeq: 1,
          receivedAt: T0,
        },
        {
          field: 'tags',
          stamp: stamp(0, 'd1'),
          base: stamp(-1, 'd1'),
          value: ['left_behind_elderly'],
          deviceId: 'd1',
          userId: 'u1',
          serverSeq: 1,
          receivedAt: T0,
        },
      ])
      const history = await sql<{ n: number }>`select count(*) as n from op_writes`.execute(store.kysely)
      expect(history.rows[0]?.n).toBe(1)
      await store.saveRecord({ ...record, id: id(2), kind: 'person', seq: 2 })
      expect((await store.getRecord(id(2)))?.kind).toBe('person')
      const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(store.kysely)
      expect(fk.rows[0]?.foreign_keys).toBe(1)
      const indexes = await sql<{
        name: string
      }>`select name from sqlite_master where type = 'index' and tbl_name = 'records' and name like 'records_%'`.execute(
        store.kysely,
      )
      expect(indexes.rows.map((r) => r.name).sort()).toEqual([
        'records_county_id_seq',
        'records_grid_id_seq',
        'records_photo_sha',
        'records_seq',
        'records_town_id_seq',
        'records_village_id_seq',
      ])
      // The FK from the history (op_writes since 006) to records still holds after the rebuild.
      await expect(
        store.insertWrites(id(9), [
          {
            field: 'x',
            stamp: stamp(1, 'd1'),
            base: null,
            value: '1',
            deviceId: 'd1',
            userId: 'u1',
            serverSeq: 3,
            receivedAt: T0,
          },
        ]),
      ).rejects.toThrow(/FOREIGN KEY/)
    } finally {
      await store.close()
    }
  })
})
