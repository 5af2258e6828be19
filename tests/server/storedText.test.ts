/**
 * Records' stamps and ops' history kept as grouped text (server/store/storedText.ts): what is decoded is what was
 * encoded, the new form is smaller, and rows stored in the plain maps before it are read the same, by the codec and
 * by a server whose database holds them (pushes, conflicts, timeline and pulls answer as on a server that wrote
 * everything in the new form).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import request from 'supertest'
import { DELETED_FIELD } from '#shared/sync/merge.ts'
import {
  bearer,
  createOp,
  deleteOp,
  editOp,
  householdFields,
  login,
  addUser,
  pull,
  push,
  stamp,
  startTestServer,
  type TestServer,
} from '../fixtures/serverHarness.ts'
import {
  decodeOpWrites,
  decodeStamps,
  encodeOpWrites,
  encodeStamps,
  type OpFieldWrite,
} from '../../server/store/storedText.ts'

const stampArb = fc
  .tuple(fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }), fc.integer({ min: 0, max: 0xffff }))
  .map(([ms, counter]) => `${ms}:${counter.toString(16).padStart(4, '0')}:device-1`)
const fieldArb = fc.string({ minLength: 1, maxLength: 12 }).filter((f) => f !== '__proto__')

/** The plain maps rows held before the grouped form (006_op_writes wrote these too). */
const legacyStamps = (stamps: Record<string, string>) => JSON.stringify(stamps)
const legacyOpWrites = (writes: readonly OpFieldWrite[]) =>
  JSON.stringify(
    Object.fromEntries(
      writes.map((w) => [w.field, { v: w.value, b: w.base, ...(w.context ? { c: w.context } : {}) }]),
    ),
  )

describe('stored stamps', () => {
  it('decodes to the stamps encoded, and to the old plain map as it was', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fieldArb, fc.oneof(stampArb, fc.constantFrom('1750000000001:0000:device-1'))),
        (stamps) => {
          expect(decodeStamps(encodeStamps(stamps))).toEqual(stamps)
          expect(decodeStamps(legacyStamps(stamps))).toEqual(stamps)
        },
      ),
    )
  })

  it('writes a new record stamp once, not once per field', () => {
    const one = '1750000000001:0000:device-0001'
    const stamps = Object.fromEntries(Object.keys(householdFields()).map((field) => [field, one]))
    const text = encodeStamps(stamps)
    expect(text.split(one)).toHaveLength(2)
    expect(text.length).toBeLessThan(legacyStamps(stamps).length / 2)
  })
})

describe('stored op history', () => {
  const writeArb = fc.record({
    value: fc.jsonValue(),
    base: fc.option(stampArb, { nil: null }),
  })

  it('decodes to the writes encoded, and to the old plain map as it was', () => {
    fc.assert(
      fc.property(fc.dictionary(fieldArb, writeArb), (byField) => {
        const writes: OpFieldWrite[] = Object.entries(byField).map(([field, w]) => ({ field, ...w }))
        // JSON has no -0: what any store returns for it is 0.
        const stored = JSON.parse(JSON.stringify(writes)) as OpFieldWrite[]
        expect(decodeOpWrites(encodeOpWrites(writes))).toEqual(stored)
        expect(decodeOpWrites(legacyOpWrites(writes))).toEqual(stored)
      }),
    )
  })

  it("keeps a delete's context, and reads only the writes between start and end", () => {
    const context = { headName: '1750000000001:0000:device-1', address: null }
    const writes: OpFieldWrite[] = [
      { field: 'headName', value: '甲', base: null },
      { field: DELETED_FIELD, value: true, base: null, context },
      { field: 'address', value: '乙', base: '1750000000001:0000:device-1' },
    ]
    expect(decodeOpWrites(encodeOpWrites(writes, 1, 2))).toEqual([writes[1]])
    expect(decodeOpWrites(encodeOpWrites(writes))).toEqual(writes)
    expect(decodeOpWrites(legacyOpWrites(writes))).toEqual(writes)
  })
})

describe('a database holding rows in the old plain form', () => {
  const DEVICE = 'device-text-1'
  const OTHER = 'device-text-2'
  const ID = '01900000-0000-7000-8000-000000000077'
  let servers: TestServer[] = []
  beforeEach(async () => {
    servers = [await startTestServer(), await startTestServer()]
  })
  afterEach(async () => {
    for (const server of servers) await server.close()
  })

  /** Rewrite every record's stamps and every history row into the plain maps written before the grouped form. */
  async function toLegacyText(server: TestServer): Promise<number> {
    const db = server.store.kysely
    let rewritten = 0
    for (const row of await db.selectFrom('records').select(['id', 'stamps']).execute()) {
      expect(row.stamps.startsWith('[')).toBe(true)
      await db
        .updateTable('records')
        .set({ stamps: legacyStamps(decodeStamps(row.stamps)) })
        .where('id', '=', row.id)
        .execute()
      rewritten++
    }
    for (const row of await db.selectFrom('op_writes').select(['id', 'writes']).execute()) {
      expect(row.writes.startsWith('[')).toBe(true)
      await db
        .updateTable('op_writes')
        .set({ writes: legacyOpWrites(decodeOpWrites(row.writes)) })
        .where('id', '=', row.id)
        .execute()
      rewritten++
    }
    return rewritten
  }

  it('answers, merges, finds conflicts and shows history as a server that wrote everything in the new form', async () => {
    const created = stamp(-9000, DEVICE)
    const seen: unknown[] = []
    for (const [index, server] of servers.entries()) {
      const users = [await addUser(server, 'me'), await addUser(server, 'other')]
      const mine = await login(server, 'me', DEVICE)
      const theirs = await login(server, 'other', OTHER)
      expect((await push(server, mine, DEVICE, [createOp(1, ID, created, householdFields())])).status).toBe(
        200,
      )
      const edit = editOp(1, ID, stamp(-5000, OTHER), { headName: '他改的名' }, { headName: created })
      expect((await push(server, theirs, OTHER, [edit])).status).toBe(200)
      // The first server's rows go back to the old form: three rows (the record, two ops' history).
      if (index === 0) expect(await toLegacyText(server)).toBe(3)

      // A concurrent edit of the same field (a conflict found from the history), then a delete with its context.
      const answers = await push(server, mine, DEVICE, [
        editOp(
          2,
          ID,
          stamp(-4000, DEVICE),
          { headName: '我改的名', address: '新地址' },
          { headName: created },
        ),
        deleteOp(3, ID, stamp(-3000, DEVICE), {
          headName: stamp(-4000, DEVICE),
          address: stamp(-4000, DEVICE),
        }),
      ])
      const timeline = await request(server.app).get(`/api/records/${ID}/timeline`).set(bearer(mine))
      const conflicts = await request(server.app)
        .get('/api/conflicts')
        .query({ recordId: ID })
        .set(bearer(mine))
      const pulled = await pull(server, mine, DEVICE)
      expect(timeline.status).toBe(200)
      expect(conflicts.status).toBe(200)
      expect(pulled.status).toBe(200)
      const answered = {
        answers: answers.body,
        timeline: timeline.body,
        conflicts: (conflicts.body as { conflicts: { id: unknown }[] }).conflicts.map(({ id: _, ...c }) => c),
        records: (pulled.body as { records: unknown[] }).records,
      }
      // User ids are random, one per server: compared by name.
      const text = users.reduce((t, user) => t.replaceAll(user.id, user.username), JSON.stringify(answered))
      seen.push(JSON.parse(text))
    }
    const [fromLegacy, fromNew] = seen as { conflicts: unknown[]; records: { stamps: object }[] }[]
    expect(fromLegacy!.conflicts.length).toBeGreaterThan(0)
    expect(Object.keys(fromLegacy!.records[0]!.stamps).length).toBeGreaterThan(5)
    expect(fromLegacy).toEqual(fromNew)
  })
})
