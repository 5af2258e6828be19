/**
 * Group commit on a real SQLite file: transactions waiting together share one COMMIT, each fails alone, and none is
 * answered before the COMMIT that stores it.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect, sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createGroupCommit } from '../../server/store/groupCommit.ts'

interface Tables {
  items: { id: number; parent: number | null }
}

let dir: string
let db: Kysely<Tables>
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gridpatrol-group-commit-'))
  const sqlite = new Database(join(dir, 'test.sqlite'))
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = FULL')
  sqlite.pragma('foreign_keys = ON')
  db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: sqlite }) })
  await sql`create table items (id integer primary key, parent integer references items(id))`.execute(db)
})
afterEach(async () => {
  await db.destroy()
  rmSync(dir, { recursive: true, force: true })
})

const stored = async () =>
  (await db.selectFrom('items').select('id').orderBy('id').execute()).map((r) => r.id)

describe('group commit', () => {
  it('runs transactions that arrive together under one COMMIT, each with its own result', async () => {
    const group = createGroupCommit(db)
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        group.transaction(async (trx) => {
          await trx
            .insertInto('items')
            .values({ id: i + 1, parent: null })
            .execute()
          return (await trx.selectFrom('items').select('id').execute()).length
        }),
      ),
    )
    // Each ran after the ones before it, in order, and saw their writes.
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    expect(group.commits).toBe(1)
    expect(await stored()).toHaveLength(20)
  })

  it('rolls back only the transaction that failed; the others of its batch are stored', async () => {
    const group = createGroupCommit(db)
    const outcomes = await Promise.allSettled(
      [1, 2, 3].map((id) =>
        group.transaction(async (trx) => {
          await trx.insertInto('items').values({ id, parent: null }).execute()
          if (id === 2) throw new Error('refused')
          return id
        }),
      ),
    )
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(await stored()).toEqual([1, 3])
  })

  it('rolls back a failing first transaction alone (it runs without a savepoint); the ones after it are stored', async () => {
    const group = createGroupCommit(db)
    const outcomes = await Promise.allSettled(
      [1, 2, 3].map((id) =>
        group.transaction(async (trx) => {
          await trx.insertInto('items').values({ id, parent: null }).execute()
          if (id === 1) throw new Error(`refused ${id}`)
          return id
        }),
      ),
    )
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled', 'fulfilled'])
    expect((outcomes[0] as PromiseRejectedResult).reason).toEqual(new Error('refused 1'))
    expect(outcomes.slice(1).map((o) => (o as PromiseFulfilledResult<number>).value)).toEqual([2, 3])
    expect(await stored()).toEqual([2, 3])
  })

  it('answers nobody before the COMMIT: when it fails, every transaction of the batch fails and none is stored', async () => {
    const group = createGroupCommit(db)
    // Foreign keys checked at COMMIT: one transaction's dangling reference makes the shared COMMIT fail.
    const outcomes = await Promise.allSettled([
      group.transaction(async (trx) => {
        await sql`pragma defer_foreign_keys = on`.execute(trx)
        await trx.insertInto('items').values({ id: 1, parent: null }).execute()
      }),
      group.transaction((trx) => trx.insertInto('items').values({ id: 2, parent: 99 }).execute()),
    ])
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected'])
    expect(await stored()).toEqual([])
    // And the store goes on working afterwards.
    await group.transaction((trx) => trx.insertInto('items').values({ id: 3, parent: null }).execute())
    expect(await stored()).toEqual([3])
  })

  it('commits again for work that arrives after a batch began', async () => {
    const group = createGroupCommit(db)
    await group.transaction((trx) => trx.insertInto('items').values({ id: 1, parent: null }).execute())
    await group.transaction((trx) => trx.insertInto('items').values({ id: 2, parent: null }).execute())
    expect(group.commits).toBe(2)
    expect(await stored()).toEqual([1, 2])
  })
})
