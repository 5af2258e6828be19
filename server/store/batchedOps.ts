/**
 * A push batch's store operations, batched: the writes a batch of ops makes (records, history rows, answers, server
 * sequence numbers) are kept in memory and written in a few multi-row statements, instead of several round trips
 * through the query builder per op. Why: ingest time went to building and running small queries, not to SQLite.
 *
 * Invariants (so that the sync service sees exactly what it would see without batching):
 * - Reads of what the batch wrote are answered from memory: `getRecord` (a write-through cache), `getAppliedResult`
 *   (an answer given earlier in the batch), and `nextSeq` (numbers follow the store's last one, without gaps).
 *   `prefetch` reads the batch's records and earlier answers in a few queries up front.
 * - Every other operation first flushes what is pending, then runs on the store as it is; the record cache is then
 *   dropped (such an operation may change records). Call `flush` before the transaction ends.
 * - Only pure lookups are memoized (a grid's scope, an area): nothing in a push changes the area tree. `loadClock`
 *   passes through without a flush (the batch never buffers the clock).
 */
import type { OpResult, Scope } from '#shared/sync/protocol.ts'
import { opWriteRowsFor } from './KyselyOps.ts'
import type { AppliedResultRow, Area, OpHistoryRow, StoreOps, StoredRecord } from './SyncStore.ts'

export interface BatchedOps {
  ops: StoreOps
  /** Read at once the records and the earlier answers the batch's ops will ask for. */
  prefetch(deviceId: string, ops: readonly { id: string; seq: number }[]): Promise<void>
  /** Write everything pending. */
  flush(): Promise<void>
}

export function batchedOps(inner: StoreOps): BatchedOps {
  const records = new Map<string, StoredRecord | null>()
  const dirty = new Map<string, StoredRecord>()
  /** The batch's history rows, one per op, built as the op is applied (its writes are not kept). */
  const opRows: OpHistoryRow[] = []
  const answers: AppliedResultRow[] = []
  const answered = new Map<string, OpResult>()
  const scopes = new Map<string, Promise<Scope | null>>()
  const areas = new Map<string, Promise<Area | null>>()
  /** The last sequence number handed out by this batch and not yet recorded in the store (null: none). */
  let lastSeq: number | null = null
  let storedSeq = 0

  async function flush(): Promise<void> {
    if (dirty.size > 0) await inner.saveRecords([...dirty.values()])
    dirty.clear()
    if (opRows.length > 0) await inner.insertOpRows(opRows.splice(0))
    if (answers.length > 0) await inner.saveAppliedResults(answers.splice(0))
    if (lastSeq !== null && lastSeq > storedSeq) await inner.advanceSeq(lastSeq)
    lastSeq = null
  }

  /** Answers the store held when the batch began, for the prefetched device (op seqs not listed: none). */
  const earlier = new Map<string, OpResult | null>()

  async function prefetch(deviceId: string, batch: readonly { id: string; seq: number }[]) {
    const ids = [...new Set(batch.map((op) => op.id))].filter((id) => !records.has(id))
    for (const id of ids) records.set(id, null)
    for (const record of await inner.getRecords(ids)) records.set(record.id, record)
    const seqs = [...new Set(batch.map((op) => op.seq))]
    const answers = await inner.getAppliedResults(deviceId, seqs)
    for (const seq of seqs) earlier.set(`${deviceId}\u0000${seq}`, answers.get(seq) ?? null)
  }

  const own: Partial<StoreOps> = {
    async getRecord(id) {
      if (!records.has(id)) records.set(id, await inner.getRecord(id))
      return records.get(id) ?? null
    },
    async saveRecord(record) {
      records.set(record.id, record)
      dirty.set(record.id, record)
    },
    async nextSeq() {
      if (lastSeq === null) lastSeq = storedSeq = await inner.lastSeq()
      return ++lastSeq
    },
    async insertWrites(recordId, recordWrites) {
      opWriteRowsFor(recordId, recordWrites, opRows)
    },
    async getAppliedResult(deviceId, opSeq) {
      const key = `${deviceId}\u0000${opSeq}`
      const known = answered.get(key) ?? earlier.get(key)
      return known !== undefined ? known : inner.getAppliedResult(deviceId, opSeq)
    },
    async saveAppliedResult(deviceId, opSeq, recordId, result, now) {
      answered.set(`${deviceId}\u0000${opSeq}`, result)
      answers.push({ deviceId, opSeq, recordId, result, appliedAt: now })
    },
    scopeOfGrid(gridId) {
      if (!scopes.has(gridId)) scopes.set(gridId, inner.scopeOfGrid(gridId))
      return scopes.get(gridId)!
    },
    getArea(id) {
      if (!areas.has(id)) areas.set(id, inner.getArea(id))
      return areas.get(id)!
    },
    // The clock is only written by saveClock, never buffered: reading it needs no flush and keeps the caches (a
    // flush here threw the prefetched records away, one query per op after it: slow on PostgreSQL's round trips).
    loadClock() {
      return inner.loadClock()
    },
  }

  const ops = new Proxy(inner, {
    get(target, name, receiver) {
      const mine = own[name as keyof StoreOps]
      if (mine) return mine
      const value: unknown = Reflect.get(target, name, receiver)
      if (typeof value !== 'function') return value
      return async (...args: unknown[]) => {
        await flush()
        records.clear()
        earlier.clear()
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return { ops, prefetch, flush }
}
