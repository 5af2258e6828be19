/**
 * The device's hybrid logical clock and op sequence, kept in `meta`. Call these inside a Dexie 'rw' transaction
 * that includes meta, outbox and refused, together with the writes they stamp, so that a stamp or a seq is only
 * ever used by a committed write.
 */
import { createClock, receive, tick } from '#shared/sync/hlc.ts'
import type { Clock, Stamp } from '#shared/sync/hlc.ts'
import type { GridPatrolDb } from './GridPatrolDb.ts'

async function loadClock(db: GridPatrolDb, makeDeviceId: () => string): Promise<Clock> {
  let deviceId = await db.getMeta('deviceId')
  if (!deviceId) {
    deviceId = makeDeviceId()
    await db.setMeta('deviceId', deviceId)
  }
  const clock = await db.getMeta('clock')
  if (clock && clock.node === deviceId) return clock
  return createClock(deviceId, clock?.ms ?? 0)
}

/** A new stamp and a new op seq, strictly greater than any issued before on this device. */
export async function issueStampAndSeq(
  db: GridPatrolDb,
  now: number,
  makeDeviceId: () => string,
): Promise<{ stamp: Stamp; seq: number }> {
  const ticked = tick(await loadClock(db, makeDeviceId), now)
  const [last, lastQueued, lastRefused] = await Promise.all([
    db.getMeta('lastOpSeq'),
    db.outbox.orderBy(':id').lastKey() as Promise<number | undefined>,
    db.refused.orderBy(':id').lastKey() as Promise<number | undefined>,
  ])
  const seq = Math.max(last ?? 0, lastQueued ?? 0, lastRefused ?? 0) + 1
  await db.setMeta('clock', ticked.clock)
  await db.setMeta('lastOpSeq', seq)
  return { stamp: ticked.stamp, seq }
}

/** Advance the device clock past a stamp from the server. */
export async function receiveStamp(
  db: GridPatrolDb,
  remote: Stamp,
  now: number,
  makeDeviceId: () => string,
): Promise<void> {
  await db.setMeta('clock', receive(await loadClock(db, makeDeviceId), remote, now))
}
