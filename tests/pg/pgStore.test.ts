/**
 * What the PostgreSQL adapter adds to the shared queries: its schema and migrations, numbers read back as numbers,
 * transactions serialized on the counter row (so seqs are handed out in commit order), a clock that never goes back.
 */
import { sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PgSyncStore } from '../../server/store/PgSyncStore.ts'
import { T0, TEST_AREAS, TEST_DATABASE_URL } from '../fixtures/serverHarness.ts'
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

  it('never moves the stored clock backwards (a lagging process cannot undo another one)', async () => {
    const later = '1750000000005:0000:server'
    await store.saveClock(later)
    await store.saveClock('1750000000001:0000:server')
    expect(await store.loadClock()).toBe(later)
    await store.saveClock('1750000000009:0001:server')
    expect(await store.loadClock()).toBe('1750000000009:0001:server')
  })
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
