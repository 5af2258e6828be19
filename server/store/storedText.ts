/**
 * How a record's stamps and an op's history are kept as text in the store (records.stamps, op_writes.writes).
 *
 * Why not the plain maps: an op writes every field it carries under one stamp, and most of its fields have no base,
 * so `{"field": "<stamp>", ...}` repeated the same 30-character stamp for each of a household's fields (twice the
 * size of its fields), and `{"field": {"v": value, "b": null}, ...}` wrapped each value in an object. Grouped, a
 * bench household's two columns hold ~290 bytes instead of ~640 (stamps 124 instead of 353, history 168 instead of
 * 283): fewer bytes for SQLite to write, sync and read back, and fewer objects to build per pushed op.
 *
 * Invariants:
 * - Rows written before this format (the plain maps: a JSON object, never an array) are read as they are, so no
 *   migration rewrites history; a record's stamps are stored in the new form the next time it changes.
 * - decode(encode(x)) equals x, key for key (field order aside; nothing reads stamps in order).
 */
import type { Stamp } from '#shared/sync/hlc.ts'
import type { StoredWrite } from './SyncStore.ts'

type Stamps = Record<string, Stamp>
type Context = NonNullable<StoredWrite['context']>

/** Stamps grouped by stamp: `[[stamp, field, field, ...], ...]` (a new record: one group). */
export function encodeStamps(stamps: Stamps): string {
  const groups = new Map<Stamp, string[]>()
  for (const field in stamps) {
    const stamp = stamps[field]!
    const group = groups.get(stamp)
    if (group) group.push(field)
    else groups.set(stamp, [stamp, field])
  }
  return JSON.stringify([...groups.values()])
}

export function decodeStamps(text: string): Stamps {
  const parsed = JSON.parse(text) as Stamps | string[][]
  if (!Array.isArray(parsed)) return parsed
  const stamps: Stamps = {}
  for (const group of parsed) {
    const stamp = group[0]!
    for (let i = 1; i < group.length; i++) stamps[group[i]!] = stamp
  }
  return stamps
}

/** One field's write in an op's history row, without what the row holds once for the whole op. */
export type OpFieldWrite = Pick<StoredWrite, 'field' | 'value' | 'base' | 'context'>

/**
 * An op's writes (one stamp): `[values, bases, contexts]`: the fields' values; the base stamps that are not null;
 * and (a delete's `_deleted` only) the context, the last element left out when there is none.
 */
export function encodeOpWrites(writes: readonly OpFieldWrite[], start = 0, end = writes.length): string {
  const values: Record<string, unknown> = {}
  const bases: Record<string, Stamp> = {}
  let contexts: Record<string, Context> | null = null
  for (let i = start; i < end; i++) {
    const write = writes[i]!
    values[write.field] = write.value
    if (write.base !== null) bases[write.field] = write.base
    if (write.context !== undefined) (contexts ??= {})[write.field] = write.context
  }
  return JSON.stringify(contexts ? [values, bases, contexts] : [values, bases])
}

/** The plain map of the rows written before the grouped form. */
interface LegacyEntry {
  v: unknown
  b: Stamp | null
  c?: Context | null
}

export function decodeOpWrites(text: string): OpFieldWrite[] {
  const parsed = JSON.parse(text) as
    | Record<string, LegacyEntry>
    | [values: Record<string, unknown>, bases: Stamps, contexts?: Record<string, Context>]
  const writes: OpFieldWrite[] = []
  if (!Array.isArray(parsed)) {
    for (const [field, entry] of Object.entries(parsed)) {
      const write: OpFieldWrite = { field, value: entry.v, base: entry.b }
      if (entry.c !== undefined && entry.c !== null) write.context = entry.c
      writes.push(write)
    }
    return writes
  }
  const [values, bases, contexts] = parsed
  for (const field in values) {
    // hasOwn: a field may be named like a property every object has (toString).
    const write: OpFieldWrite = {
      field,
      value: values[field],
      base: Object.hasOwn(bases, field) ? bases[field]! : null,
    }
    if (contexts && Object.hasOwn(contexts, field)) write.context = contexts[field]!
    writes.push(write)
  }
  return writes
}
