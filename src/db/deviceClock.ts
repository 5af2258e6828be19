/**
 * The device's hybrid logical clock and op sequence.
 *
 * Invariant: every stamp and op seq this device has issued is at or below `meta.clock` / `meta.lastOpSeq` OR at or
 * below the newest op in the outbox (each op carries its seq and its stamp, and the newest has the highest of
 * both). A save therefore writes only its record and its op, not meta (one object store fewer in the commit: the
 * save's p95), and every path that takes ops out of the outbox first raises meta to the highest seq and stamp of
 * what leaves (`retireOps`): an acknowledged or refused push, a logout clearing the outbox. Refused ops were retired
 * when they left the outbox, so dismissing or retrying them needs nothing more, with one exception: stamps the server
 * refused as too far ahead (clock_skew) are let go (`rewindPastSkew`). A wipe deletes meta with the device
 * id: the next device id is a fresh namespace for both.
 *
 * Call these inside a Dexie 'rw' transaction that includes meta and outbox, together with the writes they stamp,
 * so that two tabs never issue the same seq or stamp (their transactions queue behind each other).
 */
import { createClock, parseStamp, receive, tick } from '#shared/sync/hlc.ts'
import type { Clock, Stamp } from '#shared/sync/hlc.ts'
import type { GridPatrolDb, MetaRow } from './GridPatrolDb.ts'

/** The seq and stamp an op carries: all `retireOps` needs of it. */
export interface IssuedOp {
  seq: number
  stamp: Stamp
}

interface Issued {
  deviceId: string
  storedId: boolean
  clock: Clock
  seq: number
  /** meta's own values, to tell whether they need writing. */
  metaClock: Clock | undefined
  metaSeq: number
}

function clockOf(deviceId: string, clock: Clock | undefined): Clock {
  return clock && clock.node === deviceId ? clock : createClock(deviceId, clock?.ms ?? 0)
}

function later(a: Clock, b: Clock): boolean {
  return a.ms > b.ms || (a.ms === b.ms && a.counter > b.counter)
}

/** `clock` moved past the stamps of `ops` made by this node (the clock of another node is not ours to follow). */
function pastOps(clock: Clock, ops: readonly IssuedOp[]): Clock {
  let result = clock
  for (const op of ops) {
    const stamp = parseStamp(op.stamp)
    if (stamp.node === clock.node && later(stamp, result)) result = { ...stamp, node: clock.node }
  }
  return result
}

/** The highest seq and clock issued so far: meta's, raised by the newest op still queued. */
async function loadIssued(db: GridPatrolDb, makeDeviceId: () => string): Promise<Issued> {
  const [[idRow, clockRow, seqRow], newest] = await Promise.all([
    db.meta.bulkGet(['deviceId', 'clock', 'lastOpSeq']),
    db.outbox.orderBy(':id').last(),
  ])
  const stored = idRow?.value as string | undefined
  const deviceId = stored ?? makeDeviceId()
  const metaClock = clockRow?.value as Clock | undefined
  const metaSeq = (seqRow?.value as number | undefined) ?? 0
  const queued = newest ? [newest] : []
  return {
    deviceId,
    storedId: stored !== undefined,
    clock: pastOps(clockOf(deviceId, metaClock), queued),
    seq: Math.max(metaSeq, newest?.seq ?? 0),
    metaClock,
    metaSeq,
  }
}

/** The meta rows that record `clock`, `seq` and a new device id, leaving out what meta already holds. */
function metaRows(issued: Issued, clock: Clock, seq: number): MetaRow[] {
  const rows: MetaRow[] = []
  if (!issued.storedId) rows.push({ key: 'deviceId', value: issued.deviceId })
  const { metaClock } = issued
  const sameClock =
    metaClock?.node === clock.node && metaClock.ms === clock.ms && metaClock.counter === clock.counter
  if (!sameClock) rows.push({ key: 'clock', value: clock })
  if (seq !== issued.metaSeq) rows.push({ key: 'lastOpSeq', value: seq })
  return rows
}

/**
 * A new stamp and a new op seq, strictly greater than any issued before on this device. `meta` is empty unless the
 * device id was just made (the first save of a database): the op that carries them is their record.
 */
export async function nextStampAndSeq(
  db: GridPatrolDb,
  now: number,
  makeDeviceId: () => string,
): Promise<{ stamp: Stamp; seq: number; meta: MetaRow[] }> {
  const issued = await loadIssued(db, makeDeviceId)
  const ticked = tick(issued.clock, now)
  const meta: MetaRow[] = issued.storedId ? [] : [{ key: 'deviceId', value: issued.deviceId }]
  return { stamp: ticked.stamp, seq: issued.seq + 1, meta }
}

/**
 * Raise meta's clock and op seq past `ops`, which are leaving the outbox, and past a stamp received from the server
 * if one is given. Call it in the transaction that takes them out, before it does.
 * Meta holds the highest stamp issued or received, never the wall clock itself: the wall clock joins at the next
 * stamp (`tick`). A phone whose clock runs fast therefore leaves no fast time in meta by merely syncing, and once the
 * clock is set right its next stamps are right (see rewindPastSkew for the stamps it issued while fast).
 */
export async function retireOps(
  db: GridPatrolDb,
  ops: readonly IssuedOp[],
  makeDeviceId: () => string,
  remote?: Stamp,
): Promise<void> {
  const issued = await loadIssued(db, makeDeviceId)
  let clock = pastOps(issued.clock, ops)
  if (remote !== undefined) clock = receive(clock, remote, 0)
  const seq = ops.reduce((highest, op) => Math.max(highest, op.seq), issued.seq)
  const rows = metaRows(issued, clock, seq)
  if (rows.length > 0) await db.meta.bulkPut(rows)
}

/**
 * After the server refused ops as clock_skew (stamped too far ahead of its clock: the phone's clock ran fast), bring
 * the clock back to the server's: past the server's clock and the answered ops it did not refuse so, and no further.
 * The refused stamps reached no one (the server stores nothing of a refused op), so stamps below them break no order;
 * keeping them would stamp every later edit, and every retry after the phone's clock is set right, as far ahead, to be
 * refused again. The wall clock is left out here: if it is still fast, the next stamp follows it (and is refused, as
 * it must be); once it is right, the next stamp is right too. Ops still queued keep the clock past them (loadIssued),
 * and their refusal brings it back in turn. The op seq is raised past every answered op, as by retireOps.
 */
export async function rewindPastSkew(
  db: GridPatrolDb,
  answered: readonly IssuedOp[],
  skewed: ReadonlySet<number>,
  remote: Stamp,
  makeDeviceId: () => string,
): Promise<void> {
  const issued = await loadIssued(db, makeDeviceId)
  const accepted = answered.filter((op) => !skewed.has(op.seq))
  const clock = pastOps(receive(createClock(issued.deviceId), remote, 0), accepted)
  const seq = answered.reduce((highest, op) => Math.max(highest, op.seq), issued.seq)
  const rows = metaRows(issued, clock, seq)
  if (rows.length > 0) await db.meta.bulkPut(rows)
}

/** Raise meta past every op queued now: before the outbox is cleared (a logout of one user, then another). */
export function retireOutbox(db: GridPatrolDb, makeDeviceId: () => string): Promise<void> {
  return retireOps(db, [], makeDeviceId)
}

/** Advance the device clock past a stamp from the server. */
export function receiveStamp(db: GridPatrolDb, remote: Stamp, makeDeviceId: () => string): Promise<void> {
  return retireOps(db, [], makeDeviceId, remote)
}

/** What the device has issued so far: its clock and highest op seq (meta's, raised by the newest queued op). */
export async function lastIssued(db: GridPatrolDb): Promise<{ clock: Clock; seq: number }> {
  const { clock, seq } = await loadIssued(db, () => 'no-device-yet')
  return { clock, seq }
}
