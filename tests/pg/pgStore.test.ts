/**
 * What the PostgreSQL adapter adds to the shared queries: its schema and migrations, numbers read back as numbers,
 * transactions serialized on the counter row (so seqs are handed out in commit order), read transactions on a snapshot
 * without that lock, a clock that never goes back.
 */
import { sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PgSyncStore } from '../../server/store/PgSyncStore.ts'
import type { StoredRecord } from '../../server/store/SyncStore.ts'
import {
  COUNTY,
  GRID_A,
  T0,
  TEST_AREAS,
  TEST_DATABASE_URL,
  TOWN,
  VILLAGE,
} from '../fixtures/serverHarness.ts'
import { freshSchema } from './serverProcess.ts'

let schema: Awaited<ReturnType<typeof freshSchema>>
let store: PgSyncStore

beforeEach(async () => {
  schema = await freshSchema(TEST_DATABASE_URL!, 'store')
  store = PgSyncStore.open(TEST_DATABASE_URL!, {
    schema: schema.schema,
    maxConnections: 4,
    applicationName: schema.schema,
  })
  await store.migrate()
})
afterEach(async () => {
  await store.close()
  await schema.drop()
})

describe('PgSyncStore', () => {
  it('migrates into its own schema, and again changes nothing', async () => {
    await store.migrate()
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = ${schema.schema} order by table_name
    `.execute(store.kysely)
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(['applied_ops', 'kysely_migration', 'records', 'server_state', 'sessions']),
    )
    const migrations = await sql<{ name: string }>`select name from kysely_migration`.execute(store.kysely)
    expect(migrations.rows.map((r) => r.name)).toEqual(['001_initial'])
  })

  it('reads bigint columns and counts back as numbers, as SQLite does', async () => {
    await store.insertAreas(TEST_AREAS)
    await store.insertUser({
      id: 'u1',
      username: 'u1',
      displayName: '一号',
      role: 'worker',
      areaIds: [],
      passwordHash: 'x',
      createdAt: T0,
    })
    expect(await store.countAreas()).toBe(TEST_AREAS.length)
    expect((await store.getUser('u1'))?.createdAt).toBe(T0)
    expect(await store.insertAudit({ ...audit, areaIds: [] })).toBe(1)
  })

  it('runs transactions one at a time: a second waits for the first to commit, and gets the next seq', async () => {
    const events: string[] = []
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const first = store.transaction(async (tx) => {
      const seq = await tx.nextSeq()
      events.push(`first got ${seq}`)
      await gate
      events.push('first commits')
      return seq
    })
    while (events.length === 0) await new Promise((r) => setTimeout(r, 10))
    const second = store.transaction(async (tx) => {
      events.push('second starts')
      return tx.nextSeq()
    })
    // The second is blocked by the first (as PostgreSQL itself reports it, not judged by a timer).
    let blocked = false
    for (let poll = 0; poll < 500 && !blocked; poll++) {
      const waiting = await sql<{ n: number }>`
        select count(*)::int as n from pg_stat_activity
        where application_name = ${schema.schema} and cardinality(pg_blocking_pids(pid)) > 0
      `.execute(store.kysely)
      blocked = waiting.rows[0]!.n > 0
      if (!blocked) await new Promise((r) => setTimeout(r, 10))
    }
    expect(blocked).toBe(true)
    expect(events).toEqual(['first got 1'])
    release()
    expect(await first).toBe(1)
    expect(await second).toBe(2)
    expect(events).toEqual(['first got 1', 'first commits', 'second starts'])
  })

  it("reads a snapshot without the writers' lock: a push commits while it is open, it sees none of that push, the next read sees all of it", async () => {
    await store.insertAreas(TEST_AREAS)
    await store.transaction(async (tx) => tx.saveRecord(household(await tx.nextSeq(), 1)))
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    let opened!: () => void
    const open = new Promise<void>((r) => (opened = r))
    const reading = store.readTransaction(async (tx) => {
      const first = await tx.listRecordsSince(0, 100)
      opened()
      await gate
      // The same queries after the writer committed: the same answers (one snapshot, not read committed).
      return { first, again: await tx.listRecordsSince(0, 100), seq: await tx.lastSeq() }
    })
    await open
    // Were the read holding the writers' lock, this push would wait for it, and it waits for the push: no answer.
    const written = await store.transaction(async (tx) => {
      const seqs = [await tx.nextSeq(), await tx.nextSeq()]
      await tx.saveRecords(seqs.map((seq, i) => household(seq, 2 + i)))
      return seqs
    })
    release()
    const { first, again, seq } = await reading
    expect(first.map((r) => r.seq)).toEqual([1])
    expect(again).toEqual(first)
    expect(seq).toBe(1)
    expect(written).toEqual([2, 3])
    // Nothing missed: the next pull from the first one's cursor brings exactly the push.
    const next = await store.readTransaction((tx) => tx.listRecordsSince(seq, 100))
    expect(next.map((r) => [r.id, r.seq])).toEqual([
      [recordId(2), 2],
      [recordId(3), 3],
    ])
    await expect(store.readTransaction((tx) => tx.touchDevice('device-x', 'nobody', T0))).rejects.toThrow(
      /read-only/,
    )
  })

  it('loses no change to pulls that page by seq on snapshots while several writers commit', async () => {
    await store.insertAreas(TEST_AREAS)
    const WRITERS = 4
    const COMMITS = 15
    let writing = WRITERS
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      for (let k = 0; k < COMMITS; k++) {
        await store.transaction(async (tx) => {
          // New records and edits of earlier ones (which move to a new seq), two per commit.
          const ids = [1000 + w * COMMITS + k, 1000 + w * COMMITS + Math.floor(k / 2)]
          for (const id of ids) {
            const existing = await tx.getRecord(recordId(id))
            const seq = await tx.nextSeq()
            await tx.saveRecord({ ...household(seq, id), createdAt: existing?.createdAt ?? T0 })
          }
        })
      }
      writing--
    })
    // A device pulling pages of 3 meanwhile, keeping each record at the seq it last saw.
    const seen = new Map<string, number>()
    let cursor = 0
    const pullPage = () =>
      store.readTransaction(async (tx) => {
        const page = await tx.listRecordsSince(cursor, 3)
        for (const r of page) seen.set(r.id, r.seq)
        cursor = page.at(-1)?.seq ?? cursor
        return page.length
      })
    while (writing > 0) await pullPage()
    await Promise.all(writers)
    while ((await pullPage()) > 0);
    const all = await store.listRecordsSince(0, 10_000)
    expect(all).toHaveLength(WRITERS * COMMITS)
    expect(new Map(all.map((r) => [r.id, r.seq]))).toEqual(seen)
    expect(cursor).toBe(WRITERS * COMMITS * 2)
  })

  it('never moves the stored clock backwards (a lagging process cannot undo another one)', async () => {
    const later = '1750000000005:0000:server'
    await store.saveClock(later)
    await store.saveClock('1750000000001:0000:server')
    expect(await store.loadClock()).toBe(later)
    await store.saveClock('1750000000009:0001:server')
    expect(await store.loadClock()).toBe('1750000000009:0001:server')
  })
})

const recordId = (n: number) => `01900000-0000-7000-8000-${String(n).padStart(12, '0')}`
const household = (seq: number, n: number): StoredRecord => ({
  id: recordId(n),
  kind: 'household',
  fields: { gridId: GRID_A, headName: `住户 ${n}` },
  stamps: { gridId: `${T0}:0000:device-a`, headName: `${T0}:0000:device-a` },
  deleted: false,
  seq,
  scope: { gridId: GRID_A, villageId: VILLAGE, townId: TOWN, countyId: COUNTY },
  createdAt: T0,
  updatedAt: T0,
})

const audit = {
  at: T0,
  userId: 'u1',
  deviceId: null,
  action: 'user_created' as const,
  recordKind: 'user' as const,
  recordId: 'u1',
  field: null,
  detail: null,
}
