/**
 * Local changes to records. Each change writes the record AND its outbox op in one Dexie transaction, so a record
 * never changes without the op that will carry the change to the server. The op's seq and stamp are the device's
 * record of them (meta is written only when ops leave the outbox: see deviceClock.ts).
 * Edits are field patches carrying only the fields that really changed; `base` names the stamp each patched field
 * had as the server last knew it (a stamp of a refused op is replaced by that op's own base).
 */
import { patchSchemas, recordSchemas, validateFields } from '#shared/schemas/records.ts'
import type { RecordKind } from '#shared/schemas/records.ts'
import type { Stamp } from '#shared/sync/hlc.ts'
import { DELETED_FIELD, applyPatch, emptyState, sameValue } from '#shared/sync/merge.ts'
import type { Fields } from '#shared/sync/merge.ts'
import { deviceIdFrom } from './GridPatrolDb.ts'
import type { GridPatrolDb, LocalRecord, MetaRow, OutboxOp, RefusedOp } from './GridPatrolDb.ts'
import { nextStampAndSeq } from './deviceClock.ts'
import { opFieldNames, pendingFieldsById, recordWithState, releaseHeld, stateOf } from './recordState.ts'

export class ValidationError extends Error {
  override name = 'ValidationError'
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message)
  }
}

export class RecordNotFoundError extends Error {
  override name = 'RecordNotFoundError'
  constructor(readonly id: string) {
    super(`record not found: ${id}`)
  }
}

export interface RecordRepositoryDeps {
  now: () => number
  /** Makes record ids (UUIDv7); the device id is made once from it, without dashes. */
  newId: () => string
}

export interface RecordRepository {
  create(kind: RecordKind, fields: Record<string, unknown>): Promise<string>
  /** Returns whether anything changed (no change: no op). */
  update(kind: RecordKind, id: string, patch: Record<string, unknown>): Promise<boolean>
  /** Returns whether the record was deleted now (already deleted: no op). */
  remove(kind: RecordKind, id: string): Promise<boolean>
  get(id: string): Promise<LocalRecord | undefined>
  /** Drop a refused op and undo what it wrote locally where nothing wrote over it since. */
  dismissRefused(seq: number): Promise<void>
  /** Queue a refused op again (new seq, new stamp) for the fields it still holds. Returns whether an op was queued. */
  retryRefused(seq: number): Promise<boolean>
}

function validated(kind: RecordKind, fields: unknown, mode: 'create' | 'patch'): Fields {
  const result = validateFields(kind, fields, mode)
  if (!result.ok) throw new ValidationError(result.issue.field, result.issue.message)
  return Object.fromEntries(Object.entries(result.fields).filter(([, value]) => value !== undefined))
}

/**
 * The merged record (stored fields + patch) must satisfy the whole-record rules, so a member's birth date cannot
 * drift from their ID number by editing one of them. Stored fields that are invalid on their own and untouched by
 * the patch (a masked `138****5678` the server sent this role) are left out of the check: they cannot be judged.
 */
function checkMerged(kind: RecordKind, stored: Fields, changed: Fields): void {
  const merged: Record<string, unknown> = {}
  const skipped = new Set<string>()
  for (const [field, value] of Object.entries({ ...stored, ...changed })) {
    if (field === DELETED_FIELD || value === undefined) continue
    if (!(field in changed) && !patchSchemas[kind].safeParse({ [field]: value }).success) skipped.add(field)
    else merged[field] = value
  }
  const result = recordSchemas[kind].safeParse(merged)
  if (result.success) return
  const issue = result.error.issues.find((candidate) => {
    const field = String(candidate.path[0] ?? '')
    return !skipped.has(field)
  })
  if (issue) throw new ValidationError(issue.path.map(String).join('.'), issue.message)
}

export function createRecordRepository(db: GridPatrolDb, deps: RecordRepositoryDeps): RecordRepository {
  const makeDeviceId = deviceIdFrom(deps.newId)
  const tables = [db.records, db.outbox, db.refused, db.meta]

  /** The stamp the server last knew for a field: a stamp of a refused op is replaced by that op's base. */
  function serverBase(record: LocalRecord, field: string, refused: readonly RefusedOp[]): Stamp | null {
    const stamp = record.stamps[field]
    if (stamp === undefined) return null
    const refusal = refused.find((op) => op.stamp === stamp)
    return refusal ? (refusal.base[field] ?? null) : stamp
  }

  async function existing(kind: RecordKind, id: string): Promise<LocalRecord> {
    const record = await db.records.get(id)
    if (!record || record.kind !== kind) throw new RecordNotFoundError(id)
    return record
  }

  /** Write the record and its op together (one round trip, one transaction); meta only for a new device id. */
  async function save(record: LocalRecord, op: OutboxOp, meta: MetaRow[]): Promise<void> {
    await Promise.all([
      db.records.put(record),
      db.outbox.add(op),
      meta.length > 0 ? db.meta.bulkPut(meta) : undefined,
    ])
  }

  return {
    async create(kind, input) {
      const fields = validated(kind, input, 'create')
      return db.transaction('rw', tables, async () => {
        const { stamp, seq, meta } = await nextStampAndSeq(db, deps.now(), makeDeviceId)
        const id = deps.newId()
        const blank: LocalRecord = {
          id,
          kind,
          fields: {},
          stamps: {},
          deleted: 0,
          gridId: '',
          updatedAt: 0,
          serverSeq: 0,
          pending: 1,
        }
        const record = recordWithState(blank, applyPatch(emptyState(), fields, stamp).state)
        const base = Object.fromEntries(Object.keys(fields).map((field) => [field, null]))
        const op: OutboxOp = { type: 'put', seq, kind, id, stamp, base, create: true, fields, prev: {} }
        await save(record, op, meta)
        return id
      })
    },

    async update(kind, id, input) {
      return db.transaction('rw', tables, async () => {
        // The clock is read with the record (one round trip; an edit that changes nothing just does not use it).
        const [record, refused, { stamp, seq, meta }] = await Promise.all([
          existing(kind, id),
          db.refused.where('id').equals(id).toArray(),
          nextStampAndSeq(db, deps.now(), makeDeviceId),
        ])
        if (record.deleted) throw new RecordNotFoundError(id)
        // A value sent back unchanged is no edit, so it is not validated either: a masked phone the server sent
        // this role (`138****5678`) may come back from a form that saves every field.
        const given = Object.fromEntries(
          Object.entries(input).filter(([field, value]) => !sameValue(record.fields[field], value)),
        )
        const patch = validated(kind, given, 'patch')
        const changed = Object.fromEntries(
          Object.entries(patch).filter(([field, value]) => !sameValue(record.fields[field], value)),
        )
        const names = Object.keys(changed)
        if (names.length === 0) return false
        checkMerged(kind, record.fields, changed)
        const base = Object.fromEntries(names.map((field) => [field, serverBase(record, field, refused)]))
        const prev = Object.fromEntries(
          names.filter((field) => field in record.fields).map((field) => [field, record.fields[field]]),
        )
        // An edit replaces what it changes: a field last written by a refused op holds that op's stamp, which the
        // server never took (a day ahead, when the phone's clock ran fast), so the edit is judged against the stamp
        // the server knows (`base`), not against that one.
        const known = { ...record.stamps }
        for (const field of names) {
          const serverStamp = base[field]
          if (serverStamp === null || serverStamp === undefined) delete known[field]
          else known[field] = serverStamp
        }
        const next = recordWithState(
          record,
          applyPatch({ fields: record.fields, stamps: known }, changed, stamp).state,
        )
        const op: OutboxOp = { type: 'put', seq, kind, id, stamp, base, create: false, fields: changed, prev }
        await save({ ...next, pending: 1 }, op, meta)
        return true
      })
    },

    async remove(kind, id) {
      return db.transaction('rw', tables, async () => {
        const [record, refused, { stamp, seq, meta }] = await Promise.all([
          existing(kind, id),
          db.refused.where('id').equals(id).toArray(),
          nextStampAndSeq(db, deps.now(), makeDeviceId),
        ])
        if (record.deleted) return false
        const base: Record<string, Stamp | null> = { [DELETED_FIELD]: null }
        for (const field of Object.keys(record.stamps)) base[field] = serverBase(record, field, refused)
        const prev = DELETED_FIELD in record.fields ? { [DELETED_FIELD]: record.fields[DELETED_FIELD] } : {}
        const next = recordWithState(
          record,
          applyPatch(stateOf(record), { [DELETED_FIELD]: true }, stamp).state,
        )
        const op: OutboxOp = { type: 'delete', seq, kind, id, stamp, base, prev }
        await save({ ...next, pending: 1 }, op, meta)
        return true
      })
    },

    get(id) {
      return db.records.get(id)
    },

    async dismissRefused(seq) {
      await db.transaction('rw', tables, async () => {
        const refusal = await db.refused.get(seq)
        if (!refusal) return
        await db.refused.delete(seq)
        const record = await db.records.get(refusal.id)
        if (!record) return
        const fields = { ...record.fields }
        const stamps = { ...record.stamps }
        for (const field of opFieldNames(refusal)) {
          if (stamps[field] !== refusal.stamp) continue
          const base = refusal.base[field] ?? null
          if (field in refusal.prev && base !== null) {
            fields[field] = refusal.prev[field]
            stamps[field] = base
          } else {
            delete fields[field]
            delete stamps[field]
          }
        }
        const [queued, refused] = await Promise.all([
          db.outbox.where('id').equals(record.id).toArray(),
          db.refused.where('id').equals(record.id).toArray(),
        ])
        const stillPending = pendingFieldsById([...queued, ...refused]).get(record.id) ?? new Set<string>()
        const next = releaseHeld(recordWithState(record, { fields, stamps }), stillPending)
        if (Object.keys(next.stamps).length === 0) await db.records.delete(record.id)
        else await db.records.put(next)
      })
    },

    async retryRefused(seq) {
      return db.transaction('rw', tables, async () => {
        const refusal = await db.refused.get(seq)
        if (!refusal) return false
        await db.refused.delete(seq)
        const record = await db.records.get(refusal.id)
        const still = opFieldNames(refusal).filter((field) => record?.stamps[field] === refusal.stamp)
        if (!record || still.length === 0) return false
        const { stamp, seq: nextSeq, meta } = await nextStampAndSeq(db, deps.now(), makeDeviceId)
        const { id, kind, prev } = refusal
        let op: OutboxOp
        if (refusal.type === 'delete') {
          op = { type: 'delete', seq: nextSeq, kind, id, stamp, base: refusal.base, prev }
        } else {
          const fields = Object.fromEntries(still.map((field) => [field, record.fields[field]]))
          const base = Object.fromEntries(still.map((field) => [field, refusal.base[field] ?? null]))
          op = { type: 'put', seq: nextSeq, kind, id, stamp, base, create: refusal.create, fields, prev }
        }
        const stamps = { ...record.stamps }
        for (const field of still) stamps[field] = stamp
        await save({ ...recordWithState(record, { fields: record.fields, stamps }), pending: 1 }, op, meta)
        return true
      })
    },
  }
}
