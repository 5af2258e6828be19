/**
 * A device's replica of one record: the merged state it shows, plus server writes it holds back.
 *
 * Why hold back: a field with an unacknowledged local write (queued or refused) keeps showing that write, yet the
 * server's value for it must not be thrown away. If the local write then loses on the server, or is refused and
 * dismissed, the server's state did not change, so it will never send that record again: the held-back write is
 * what the device must show once its own write is settled. Without it the device would keep a value nobody else has.
 */
import { emptyState, mergeStates, type RecordState } from './merge.ts'

export interface Replica extends RecordState {
  held?: RecordState
}

function pick(state: RecordState, keep: (field: string) => boolean): RecordState {
  const picked = emptyState()
  for (const [field, stamp] of Object.entries(state.stamps)) {
    if (!keep(field)) continue
    picked.stamps[field] = stamp
    picked.fields[field] = state.fields[field]
  }
  return picked
}

const isEmpty = (state: RecordState) => Object.keys(state.stamps).length === 0

/** Merge a pulled state in: fields in `pending` keep their local value, and the remote write to them is held. */
export function receiveRemote(local: Replica, remote: RecordState, pending: ReadonlySet<string>): Replica {
  const merged: Replica = mergeStates(local, remote, pending)
  if (local.held) merged.held = local.held
  if (pending.size === 0) return merged
  // Every differing write is held, even one older than the local stamp: a refused local write may yet be undone.
  const incoming = pick(remote, (field) => pending.has(field) && local.stamps[field] !== remote.stamps[field])
  if (!isEmpty(incoming)) merged.held = mergeStates(local.held ?? emptyState(), incoming)
  return merged
}

/** Merge held-back writes in for every field that has no unacknowledged local write any more. */
export function releaseHeld(replica: Replica, stillPending: ReadonlySet<string>): Replica {
  if (!replica.held) return replica
  const release = pick(replica.held, (field) => !stillPending.has(field))
  if (isEmpty(release)) return replica
  const released: Replica = mergeStates(replica, release)
  const rest = pick(replica.held, (field) => stillPending.has(field))
  if (!isEmpty(rest)) released.held = rest
  return released
}
