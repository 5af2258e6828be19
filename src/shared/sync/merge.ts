/**
 * Per-field merge and conflict detection: the part of sync that must be right everywhere.
 *
 * Invariants (tested in tests/unit):
 * - Convergence: a field's value is the value of its highest-stamped write. Applying the same writes in any order,
 *   any number of times, gives the same state on every replica.
 * - A delete is the write `_deleted = true`: a tombstone, merged like any field.
 * - Conflicts are derived from the set of writes, never from arrival order. Each write names the stamp the field had
 *   on its author's device (`base`), so a field's writes form a tree. A write nobody built on (a leaf) that is not
 *   the winner is a superseded concurrent edit: a conflict row. Writes by a device that had seen them are not.
 * - A delete names every field's stamp as its author saw it (`context`): a leaf edit of any field that the deleter
 *   had not seen, on a record whose winning `_deleted` is true, is a delete-edit conflict.
 */
import type { Stamp } from './hlc.ts'
import type { Op } from './protocol.ts'

export const DELETED_FIELD = '_deleted'

export type Fields = Record<string, unknown>
export type Stamps = Record<string, Stamp>

export interface RecordState {
  fields: Fields
  stamps: Stamps
}

export const emptyState = (): RecordState => ({ fields: {}, stamps: {} })

export function isDeleted(state: RecordState): boolean {
  return state.fields[DELETED_FIELD] === true
}

/** Apply one stamped patch with per-field last-writer-wins. Returns the fields that changed. */
export function applyPatch(
  state: RecordState,
  patch: Fields,
  stamp: Stamp,
): { state: RecordState; changed: string[] } {
  const fields = { ...state.fields }
  const stamps = { ...state.stamps }
  const changed: string[] = []
  for (const [field, value] of Object.entries(patch)) {
    const current = stamps[field]
    if (current !== undefined && current >= stamp) continue
    fields[field] = value
    stamps[field] = stamp
    changed.push(field)
  }
  return { state: { fields, stamps }, changed }
}

/**
 * Merge a state from elsewhere into a local one, field by field (higher stamp wins). Fields in `keep` (with local
 * ops not yet acknowledged) stay as they are: the local op will reach the server and be merged there.
 */
export function mergeStates(
  local: RecordState,
  remote: RecordState,
  keep: ReadonlySet<string> = new Set(),
): RecordState {
  const fields = { ...local.fields }
  const stamps = { ...local.stamps }
  for (const [field, stamp] of Object.entries(remote.stamps)) {
    if (keep.has(field)) continue
    const current = stamps[field]
    if (current !== undefined && current >= stamp) continue
    fields[field] = remote.fields[field]
    stamps[field] = stamp
  }
  return { fields, stamps }
}

/** One field write as the server keeps it in a record's history. */
export interface FieldWrite {
  field: string
  stamp: Stamp
  /** The stamp the field had on the author's device before this write (null: never written). */
  base: Stamp | null
  value: unknown
  /** Only on `_deleted` writes of a delete: every field's stamp as the deleter saw the record. */
  context?: Record<string, Stamp | null>
}

/** The field writes an op makes. */
export function writesOfOp(op: Op): FieldWrite[] {
  if (op.type === 'delete') {
    return [
      {
        field: DELETED_FIELD,
        stamp: op.stamp,
        base: op.base[DELETED_FIELD] ?? null,
        value: true,
        context: op.base,
      },
    ]
  }
  return Object.entries(op.fields).map(([field, value]) => ({
    field,
    stamp: op.stamp,
    base: op.base[field] ?? null,
    value,
  }))
}

export interface Conflict {
  /** `edit`: two concurrent edits of one field; `delete`: an edit the deleter had not seen. */
  type: 'edit' | 'delete'
  field: string
  winner: FieldWrite
  loser: FieldWrite
}

/** The conflicts implied by all the writes of one record (order-independent, duplicates ignored). */
export function findConflicts(writes: readonly FieldWrite[]): Conflict[] {
  const byField = new Map<string, Map<Stamp, FieldWrite>>()
  for (const write of writes) {
    let field = byField.get(write.field)
    if (!field) byField.set(write.field, (field = new Map()))
    field.set(write.stamp, write)
  }
  const conflicts: Conflict[] = []
  const leavesByField = new Map<string, FieldWrite[]>()
  const winners = new Map<string, FieldWrite>()
  for (const [name, field] of [...byField].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const built = new Set<Stamp | null>([...field.values()].map((w) => w.base))
    const leaves = [...field.values()].filter((w) => !built.has(w.stamp)).sort(byStamp)
    const winner = [...field.values()].reduce((a, b) => (b.stamp > a.stamp ? b : a))
    leavesByField.set(name, leaves)
    winners.set(name, winner)
    for (const leaf of leaves) {
      if (leaf !== winner && !sameValue(leaf.value, winner.value)) {
        conflicts.push({ type: 'edit', field: name, winner, loser: leaf })
      }
    }
  }
  const deletion = winners.get(DELETED_FIELD)
  if (deletion?.value === true) {
    for (const [name, leaves] of leavesByField) {
      if (name === DELETED_FIELD) continue
      const field = byField.get(name)!
      const seen = deletion.context?.[name] ?? null
      for (const leaf of leaves) {
        if (!isAncestorOrSelf(field, leaf.stamp, seen)) {
          conflicts.push({ type: 'delete', field: name, winner: deletion, loser: leaf })
        }
      }
    }
  }
  return conflicts
}

/** Whether `ancestor` is `from` or lies on the chain of bases above it. */
function isAncestorOrSelf(
  field: ReadonlyMap<Stamp, FieldWrite>,
  ancestor: Stamp,
  from: Stamp | null,
): boolean {
  const visited = new Set<Stamp>()
  for (let at = from; at !== null && !visited.has(at); at = field.get(at)?.base ?? null) {
    if (at === ancestor) return true
    visited.add(at)
  }
  return false
}

function byStamp(a: FieldWrite, b: FieldWrite): number {
  return a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : 0
}

/** Structural equality of JSON values. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length) return false
  return ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}

/** The patch an op applies to a record's state. */
export function patchOfOp(op: Op): Fields {
  return op.type === 'delete' ? { [DELETED_FIELD]: true } : op.fields
}
