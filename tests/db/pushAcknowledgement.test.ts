/**
 * The answer to a push: acknowledged ops leave the outbox without rewriting their records (whether a record has ops
 * queued is read from the outbox), refused ones move to `refused` with their undo values, and ops the answer does
 * not mention stay queued.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { GridPatrolDb } from '../../src/db/GridPatrolDb.ts'
import { wireOp } from '../../src/db/dexieLocalStore.ts'
import { withQueuedState } from '../../src/db/recordQueries.ts'
import { FakeServer } from './fakeServer.ts'
import { T0, household, testDevice } from './testDevice.ts'

const opened: GridPatrolDb[] = []
afterEach(async () => {
  for (const db of opened.splice(0)) if (db.isOpen()) await db.delete()
})

function device() {
  const d = testDevice(new FakeServer())
  opened.push(d.db)
  return d
}

const serverClock = `${T0}:0000:server`

/** Counts writes to the records table from now on. */
function countRecordWrites(db: GridPatrolDb): () => number {
  let writes = 0
  db.records.hook('creating', () => void writes++)
  db.records.hook('updating', () => void writes++)
  db.records.hook('deleting', () => void writes++)
  return () => writes
}

describe('applying a push answer', () => {
  it('acknowledged ops leave the outbox and no record is rewritten; the queued state comes from the outbox', async () => {
    const { db, repo, store } = device()
    const ids = [
      await repo.create('household', household()),
      await repo.create('household', household({ headName: '李梅' })),
    ]
    await repo.update('household', ids[0]!, { memberCount: 3 })
    const sent = (await db.outbox.orderBy(':id').toArray()).map(wireOp)
    const writes = countRecordWrites(db)

    const outcome = await store.applyPushResults(
      sent.slice(0, 2),
      sent.slice(0, 2).map((op) => ({ seq: op.seq, status: 'applied' as const })),
      serverClock,
    )
    expect(outcome).toEqual({ applied: 2, refused: 0 })
    expect(writes()).toBe(0)
    const shown = await withQueuedState(
      db,
      (await db.records.bulkGet(ids)).map((r) => r!),
    )
    // The first record still has its edit queued, the second has nothing left to send.
    expect(shown.map((record) => record.pending)).toEqual([1, 0])

    await store.applyPushResults(sent.slice(2), [{ seq: sent[2]!.seq, status: 'applied' }], serverClock)
    expect(await db.outbox.count()).toBe(0)
    expect(writes()).toBe(0)
    const after = await withQueuedState(
      db,
      (await db.records.bulkGet(ids)).map((r) => r!),
    )
    expect(after.map((record) => record.pending)).toEqual([0, 0])
  })

  it('an op the answer leaves out stays queued; a refused one moves to refused with its undo values', async () => {
    const { db, repo, store } = device()
    const id = await repo.create('household', household())
    await repo.update('household', id, { memberCount: 2 })
    await repo.update('household', id, { memberCount: 5 })
    const sent = (await db.outbox.orderBy(':id').toArray()).map(wireOp)
    const [first, second, third] = sent.map((op) => op.seq) as [number, number, number]

    const outcome = await store.applyPushResults(
      sent,
      [
        { seq: first, status: 'applied' },
        { seq: third, status: 'refused', code: 'invalid_field', reason: '人数不对', field: 'memberCount' },
        { seq: 999, status: 'applied' }, // not sent in this batch: ignored
      ],
      serverClock,
    )
    expect(outcome).toEqual({ applied: 1, refused: 1 })
    expect((await db.outbox.toArray()).map((op) => op.seq)).toEqual([second])
    const [refused] = await db.refused.toArray()
    expect(refused).toMatchObject({
      seq: third,
      code: 'invalid_field',
      field: 'memberCount',
      prev: { memberCount: 2 },
    })
    const [shown] = await withQueuedState(db, [(await db.records.get(id))!])
    expect(shown!.pending).toBe(1)
  })
})
