import Database from 'better-sqlite3'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WalCheckpointer } from '../../server/store/WalCheckpointer.ts'

/** Polls until `check` holds (a checkpoint happens on the worker's own schedule); fails after `ms`. */
async function eventually(check: () => boolean, ms = 4000): Promise<void> {
  const until = Date.now() + ms
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('WalCheckpointer: the WAL is copied into the database file by a worker, not by the writer', () => {
  let dir: string
  let file: string
  let db: Database.Database
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gridpatrol-wal-'))
    file = join(dir, 'wal.sqlite')
    db = new Database(file)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.exec('create table t (id integer primary key, body text not null)')
  })
  afterEach(() => {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const write = (rows: number) => {
    const insert = db.prepare('insert into t (body) values (?)')
    db.transaction(() => {
      for (let i = 0; i < rows; i++) insert.run('x'.repeat(1000))
    })()
  }
  const dbBytes = () => statSync(file).size

  it('starts once the WAL passes its threshold, checkpoints it in the background, and stops cleanly', async () => {
    const autocheckpoint: number[] = []
    const errors: string[] = []
    const checkpointer = new WalCheckpointer(
      file,
      (pages) => {
        autocheckpoint.push(pages)
        db.pragma(`wal_autocheckpoint = ${pages}`)
      },
      { intervalMs: 10, startAtBytes: 256 * 1024, onError: (message) => errors.push(message) },
      5000,
    )
    // Below the threshold: nothing starts, the writer's own autocheckpoint is left alone.
    write(10)
    checkpointer.afterCommit()
    expect(checkpointer.running).toBe(false)
    expect(autocheckpoint).toEqual([])

    // The writer stops checkpointing by itself below the fallback, so only the worker can grow the database file.
    db.pragma('wal_autocheckpoint = 0')
    const before = dbBytes()
    write(400)
    expect(dbBytes()).toBe(before)
    checkpointer.afterCommit()
    expect(checkpointer.running).toBe(true)
    expect(autocheckpoint).toEqual([5000])
    await eventually(() => dbBytes() > before + 300 * 1000)

    await checkpointer.stop()
    expect(checkpointer.running).toBe(false)
    // Stopped for good: a later commit does not start another worker.
    write(400)
    checkpointer.afterCommit()
    expect(checkpointer.running).toBe(false)
    expect(errors).toEqual([])
    expect(db.prepare('select count(*) as n from t').get()).toEqual({ n: 810 })
  })

  it('never starts for an in-memory database and stops at once when it never started', async () => {
    const checkpointer = new WalCheckpointer(':memory:', () => {
      throw new Error('must not be called')
    })
    checkpointer.afterCommit()
    expect(checkpointer.running).toBe(false)
    await checkpointer.stop()
  })
})
