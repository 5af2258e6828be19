/**
 * The device's hybrid logical clock and op sequence, kept in `meta`. Call these inside a Dexie 'rw' transaction
 * that includes meta, outbox and refused, together with the writes they stamp, so that a stamp or a seq is only
 * ever used by a committed write.
 */
import { createClock, receive, tick } from '#shared/sync/hlc.ts'
import type { Clock, Stamp } from '#shared/sync/hlc.ts'
import type { GridPatrolDb, MetaRow } from './GridPatrolDb.ts'

/** The stored device id (made and stored once when missing) and clock. */
async function loadClock(db: GridPatrolDb, makeDeviceId: () => string): Promise<Clock> {
  const [storedId, clock] = await Promise.all([db.getMeta('deviceId'), db.getMeta('clock')])
  const deviceId = storedId ?? makeDeviceId()
  if (!storedId) await db.setMeta('deviceId', deviceId)
  return clockOf(deviceId, clock)
}

function clockOf(deviceId: string, clock: Clock | undefined): Clock {
  return clock && clock.node === deviceId ? clock : createClock(deviceId, clock?.ms ?? 0)
}

/**
 * A new stamp and a new op seq, strictly greater than any issued before on this device, and the `meta` rows that
 * record them: the caller writes those in the same transaction and the same round trip as the write they stamp (a
 * save is a few IndexedDB round trips, each costing more than the work between them).
 */
export async function nextStampAndSeq(
  db: GridPatrolDb,
  now: number,
  makeDeviceId: () => string,
): Promise<{ stamp: Stamp; seq: number; meta: MetaRow[] }> {
  const [storedId, clock, last, lastQueued, lastRefused] = await Promise.all([
    db.getMeta('deviceId'),
    db.getMeta('clock'),
    db.getMeta('lastOpSeq'),
    db.outbox.orderBy(':id').lastKey() as Promise<number | undefined>,
    db.refused.orderBy(':id').lastKey() as Promise<number | undefined>,
  ])
  const deviceId = storedId ?? makeDeviceId()
  const ticked = tick(clockOf(deviceId, clock), now)
  const seq = Math.max(last ?? 0, lastQueued ?? 0, lastRefused ?? 0) + 1
  const rows: MetaRow[] = [
    { key: 'clock', value: ticked.clock },
    { key: 'lastOpSeq', value: seq },
  ]
  if (!storedId) rows.push({ key: 'deviceId', value: deviceId })
  return { stamp: ticked.stamp, seq, meta: rows }
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
