import { describe, expect, it } from 'vitest'
import {
  applyPatch,
  DELETED_FIELD,
  emptyState,
  findConflicts,
  mergeStates,
  type FieldWrite,
} from '#shared/sync/merge.ts'
import { formatStamp } from '#shared/sync/hlc.ts'

const s = (ms: number, node = 'dev1') => formatStamp({ ms, counter: 0, node })

describe('per-field merge', () => {
  it('keeps the higher stamp per field, whatever the order', () => {
    const a = applyPatch(emptyState(), { name: 'A', phone: '1' }, s(10)).state
    const b = applyPatch(a, { name: 'B' }, s(20)).state
    const c = applyPatch(b, { name: 'old', phone: '2' }, s(15)).state
    expect(c.fields).toEqual({ name: 'B', phone: '2' })
    expect(c.stamps).toEqual({ name: s(20), phone: s(15) })
  })

  it('reports only the fields that changed, and a repeated write changes nothing', () => {
    const first = applyPatch(emptyState(), { name: 'A' }, s(10))
    expect(first.changed).toEqual(['name'])
    expect(applyPatch(first.state, { name: 'A' }, s(10)).changed).toEqual([])
  })

  it('does not overwrite fields with pending local ops when merging a pulled state', () => {
    const local = applyPatch(emptyState(), { name: 'mine', phone: '1' }, s(30)).state
    const remote = applyPatch(emptyState(), { name: 'theirs', phone: '9', notes: 'x' }, s(40)).state
    const merged = mergeStates(local, remote, new Set(['name']))
    expect(merged.fields).toEqual({ name: 'mine', phone: '9', notes: 'x' })
  })
})

describe('conflicts', () => {
  const w = (
    field: string,
    stamp: string,
    base: string | null,
    value: unknown,
    context?: Record<string, string | null>,
  ): FieldWrite => (context ? { field, stamp, base, value, context } : { field, stamp, base, value })

  it('edits of different fields never conflict', () => {
    const writes = [
      w('name', s(1), null, 'a'),
      w('phone', s(2, 'dev2'), null, '1'),
      w('name', s(3), s(1), 'b'),
    ]
    expect(findConflicts(writes)).toEqual([])
  })

  it('two edits of one field from the same base: the lower stamp is the loser', () => {
    const base = w('name', s(1), null, 'a')
    const x = w('name', s(5, 'dev1'), s(1), 'x')
    const y = w('name', s(6, 'dev2'), s(1), 'y')
    expect(findConflicts([y, base, x])).toEqual([{ type: 'edit', field: 'name', winner: y, loser: x }])
  })

  it('an edit built on a write is not a conflict with it, even when the write arrived later', () => {
    const x = w('name', s(5, 'dev1'), null, 'x')
    const y = w('name', s(6, 'dev2'), s(5, 'dev1'), 'y')
    expect(findConflicts([y, x])).toEqual([])
  })

  it('a delete racing an unseen edit is a delete conflict; a seen edit is not', () => {
    const created = w('name', s(1), null, 'a')
    const seenEdit = w('phone', s(2), null, '1')
    const unseen = w('name', s(4, 'dev2'), s(1), 'b')
    const del = w(DELETED_FIELD, s(3, 'dev3'), null, true, { name: s(1), phone: s(2), [DELETED_FIELD]: null })
    const conflicts = findConflicts([created, seenEdit, unseen, del])
    expect(conflicts).toEqual([{ type: 'delete', field: 'name', winner: del, loser: unseen }])
  })
})
