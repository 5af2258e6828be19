import { sql, type Kysely, type Transaction } from 'kysely'

export interface GroupCommit<DB> {
  transaction<T>(fn: (trx: Transaction<DB>) => Promise<T>): Promise<T>
  /** How many COMMITs it has made (each shared by every transaction of its batch). */
  readonly commits: number
}

interface Job<DB> {
  fn: (trx: Transaction<DB>) => Promise<unknown>
  resolve(value: unknown): void
  reject(error: unknown): void
}

/**
 * Group commit for a store with one synchronous connection (better-sqlite3): the transactions that are waiting
 * when one batch starts share one COMMIT.
 *
 * Why: with synchronous=FULL every COMMIT waits for the disk (about 4 ms on a VM disk), and better-sqlite3 waits
 * with the event loop blocked, so a hundred phones pushing at once would queue behind a hundred disk syncs.
 *
 * Invariants:
 * - Each transaction runs alone, one after another, each after the first in its own SAVEPOINT: one that throws rolls
 *   back to it and fails alone; the others of the batch go on. The first needs none (SQLite copies every page a
 *   savepoint changes into its sub-journal): when it throws, the whole batch, only it so far, rolls back and fails
 *   alone, and the waiting transactions make the next batch.
 * - A transaction's result is handed out only after the shared COMMIT returned: an answered push is on disk. If the
 *   COMMIT fails, every transaction of the batch fails with its error (none of them was stored).
 * - A batch starts on the next turn of the event loop (setImmediate), so requests that arrived together join it;
 *   with a synchronous driver nothing else could join, since a batch runs without yielding to I/O.
 */
export function createGroupCommit<DB>(db: Kysely<DB>, maxBatch = 64): GroupCommit<DB> {
  const queue: Job<DB>[] = []
  let draining = false
  let commits = 0

  async function runBatch(): Promise<void> {
    const succeeded: { job: Job<DB>; value: unknown }[] = []
    let taken = 0
    /** The batch's first transaction when it failed: it ran without a savepoint, so the whole batch rolled back. */
    let failedFirst: { job: Job<DB>; error: unknown } | null = null
    try {
      await db.transaction().execute(async (trx) => {
        for (let n = 0; n < maxBatch && queue.length > 0; n++) {
          const job = queue.shift()!
          taken++
          if (n === 0) {
            try {
              succeeded.push({ job, value: await job.fn(trx) })
            } catch (error) {
              failedFirst = { job, error }
              throw error
            }
            continue
          }
          const savepoint = sql.id(`group_commit_${n}`)
          await sql`savepoint ${savepoint}`.execute(trx)
          try {
            const value = await job.fn(trx)
            await sql`release savepoint ${savepoint}`.execute(trx)
            succeeded.push({ job, value })
          } catch (error) {
            await sql`rollback to savepoint ${savepoint}`.execute(trx)
            await sql`release savepoint ${savepoint}`.execute(trx)
            job.reject(error)
          }
        }
      })
      commits++
    } catch (error) {
      if (failedFirst) {
        const { job, error: own } = failedFirst as { job: Job<DB>; error: unknown }
        job.reject(own)
        return
      }
      for (const { job } of succeeded) job.reject(error)
      // The transaction could not even begin (a closed database): fail the waiting ones rather than spin.
      if (taken === 0) for (const job of queue.splice(0)) job.reject(error)
      return
    }
    for (const { job, value } of succeeded) job.resolve(value)
  }

  async function drain(): Promise<void> {
    draining = true
    try {
      while (queue.length > 0) {
        await new Promise((next) => setImmediate(next))
        await runBatch()
      }
    } finally {
      draining = false
    }
  }

  return {
    transaction<T>(fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ fn, resolve: resolve as (value: unknown) => void, reject })
        if (!draining) void drain()
      })
    },
    get commits() {
      return commits
    },
  }
}
