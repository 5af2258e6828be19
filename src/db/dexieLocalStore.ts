/**
 * The sync engine's LocalStore port over the Dexie database.
 * A pull page is applied in ONE transaction with ONE bulk write and its cursor; fields with unacknowledged local
 * ops (queued or refused) are not overwritten: their remote writes are held back (see GridPatrolDb.ts).
 * The last page of a rebuild drops, in that same transaction, the records the rebuild did not bring unless they
 * have queued ops (their refusals stay: the user still sees what was refused and why). While such a record is
 * kept, the new scope key is not stored, so the next run rebuilds again once that op has been pushed.
 */
import type { Op, OpResult, PullResponse } from '#shared/sync/protocol.ts'
import type { LocalStore, PullEnd, PushOutcome } from '../sync/ports.ts'
import { deviceIdFrom } from './GridPatrolDb.ts'
import type { GridPatrolDb, LocalRecord, OutboxOp, RefusedOp } from './GridPatrolDb.ts'
import { receiveStamp, retireOps, rewindPastSkew } from './deviceClock.ts'
import { pendingFieldsById, receivePulled, releaseHeld } from './recordState.ts'

export interface DexieLocalStoreDeps {
  now: () => number
  newId: () => string
}

/** The op as it travels: the outbox row without its local-only undo values. */
export function wireOp(row: OutboxOp): Op {
  const { prev: _prev, ...op } = row
  return op
}

export function createDexieLocalStore(db: GridPatrolDb, deps: DexieLocalStoreDeps): LocalStore {
  const makeDeviceId = deviceIdFrom(deps.newId)

  /**
   * Release held-back writes of the records among `ids` whose ops just left the outbox. Only records that hold
   * something are written: an acknowledgement does not rewrite the records it acknowledges (whether a record has ops
   * queued is read from the outbox: `withQueuedState` in recordQueries.ts), so a push of 10,000 edits writes no record.
   */
  async function settle(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return
    const holding = (await db.records.bulkGet([...ids])).filter(
      (record): record is LocalRecord => record?.held !== undefined,
    )
    if (holding.length === 0) return
    const holdingIds = holding.map((record) => record.id)
    const [queued, refused] = await Promise.all([
      db.outbox.where('id').anyOf(holdingIds).toArray(),
      db.refused.where('id').anyOf(holdingIds).toArray(),
    ])
    const queuedIds = new Set(queued.map((op) => op.id))
    const pending = pendingFieldsById([...queued, ...refused])
    await db.records.bulkPut(
      holding.map((record) => ({
        ...releaseHeld(record, pending.get(record.id) ?? new Set()),
        pending: queuedIds.has(record.id) ? 1 : 0,
      })),
    )
  }

  /**
   * The stored records among `ids`. An id above the highest stored one cannot be stored, so it is not looked up: on a
   * first pull (ids mostly ascending) that skips nearly every read. (One cursor over the sorted ids is no better: it
   * is far slower when the ids are scattered among many stored records, as on later pulls.)
   */
  async function localRecords(ids: readonly string[]): Promise<(LocalRecord | undefined)[]> {
    const highest = (await db.records.orderBy(':id').lastKey()) as string | undefined
    const maybeStored = highest === undefined ? [] : ids.filter((id) => id <= highest)
    return maybeStored.length === 0 ? [] : db.records.bulkGet(maybeStored)
  }

  /** Delete the outbox ops with these seqs; resolves with how many were there. */
  async function deleteCounted(seqs: number[]): Promise<number> {
    const present = (await db.outbox.bulkGet(seqs)).filter((row) => row !== undefined).length
    await db.outbox.bulkDelete(seqs)
    return present
  }

  return {
    deviceId: () => db.ensureDeviceId(makeDeviceId),

    async lastOutboxSeq() {
      return ((await db.outbox.orderBy(':id').lastKey()) as number | undefined) ?? 0
    },

    async outboxBatch(afterSeq, upToSeq, limit) {
      if (upToSeq <= afterSeq) return []
      const rows = await db.outbox.where(':id').between(afterSeq, upToSeq, false, true).limit(limit).toArray()
      return rows.map(wireOp)
    },

    countOutbox(upToSeq) {
      return db.outbox.where(':id').belowOrEqual(upToSeq).count()
    },

    async applyPushResults(sent, results, clock) {
      const bySeq = new Map(sent.map((op) => [op.seq, op]))
      const answers = new Map<number, OpResult>()
      for (const result of results) if (bySeq.has(result.seq)) answers.set(result.seq, result)
      const answered = [...answers.keys()].map((seq) => bySeq.get(seq)!)
      const refusedSeqs = [...answers.values()]
        .filter((result) => result.status !== 'applied')
        .map((result) => result.seq)
      // Meta first takes the seqs and stamps of what leaves the outbox (deviceClock.ts) and the server's clock, in a
      // short transaction of its own: meta raised with the ops still queued is harmless (a seq or a stamp skipped),
      // and the long one below then leaves meta free for the request of the next batch (the API client reads the
      // session's token there) instead of holding it back until the answers are written.
      const skewed = new Set(
        [...answers.values()]
          .filter((result) => result.status === 'refused' && result.code === 'clock_skew')
          .map((result) => result.seq),
      )
      await db.transaction('rw', [db.outbox, db.meta], () =>
        skewed.size > 0
          ? rewindPastSkew(db, answered, skewed, clock, makeDeviceId)
          : retireOps(db, answered, makeDeviceId, clock),
      )
      return db.transaction('rw', [db.records, db.outbox, db.refused], async () => {
        // Only refused ops are read back (their undo values are not on the wire); applied ones are deleted unread.
        const refusedRows = await db.outbox.bulkGet(refusedSeqs)
        const refusedAt = deps.now()
        const refusals: RefusedOp[] = []
        for (const [index, row] of refusedRows.entries()) {
          const result = answers.get(refusedSeqs[index]!)
          if (!row || !result || result.status === 'applied') continue
          const { code, reason, field } = result
          refusals.push({ ...row, code, reason, refusedAt, ...(field === undefined ? {} : { field }) })
        }
        // A batch is the outbox's next ops in seq order, and later ops get higher seqs: when every op sent was
        // answered, the seqs from the first to the last sent are exactly the batch, and go in one range delete.
        const first = sent[0]?.seq
        const last = sent.at(-1)?.seq
        const left =
          answered.length === sent.length && first !== undefined && last !== undefined
            ? await db.outbox.where(':id').between(first, last, true, true).delete()
            : await deleteCounted(answered.map((op) => op.seq))
        await db.refused.bulkPut(refusals)
        await settle([...new Set(answered.map((op) => op.id))])
        const outcome: PushOutcome = { applied: left - refusals.length, refused: refusals.length }
        return outcome
      })
    },

    async pullCursor() {
      return (await db.getMeta('pullCursor')) ?? 0
    },

    async scopeKey() {
      return (await db.getMeta('scopeKey')) ?? null
    },

    async applyPullPage(page: PullResponse, end?: PullEnd) {
      return db.transaction('rw', [db.records, db.outbox, db.refused, db.meta], async () => {
        const ids = [...new Set(page.records.map((record) => record.id))]
        const [locals, queued, refused] = await Promise.all([
          localRecords(ids),
          ids.length ? db.outbox.where('id').anyOf(ids).toArray() : [],
          ids.length ? db.refused.where('id').anyOf(ids).toArray() : [],
        ])
        const pending = pendingFieldsById([...queued, ...refused])
        const queuedIds = new Set(queued.map((op) => op.id))
        const byId = new Map<string, LocalRecord>()
        for (const local of locals) if (local) byId.set(local.id, local)
        for (const remote of page.records) {
          const local = byId.get(remote.id)
          const keep = pending.get(remote.id) ?? new Set<string>()
          const remoteState = { fields: remote.fields, stamps: remote.stamps }
          const base: LocalRecord = {
            ...(local ?? { fields: {}, stamps: {}, deleted: 0, updatedAt: 0, pending: 0 }),
            id: remote.id,
            kind: remote.kind,
            gridId: remote.scope.gridId,
            serverSeq: Math.max(local?.serverSeq ?? 0, remote.seq),
            pending: queuedIds.has(remote.id) ? 1 : 0,
          }
          byId.set(remote.id, receivePulled(base, remoteState, keep))
        }
        // The page's records, its cursor and the server's clock do not depend on each other: the meta requests go out
        // with the puts, not after a thousand of them were acknowledged (the transaction commits them together).
        await Promise.all([
          db.records.bulkPut([...byId.values()]),
          db.setMeta('pullCursor', page.cursor),
          receiveStamp(db, page.clock, makeDeviceId),
        ])
        // Records an edit moved out of this user's areas. One with an op queued during this run stays until that op
        // has been pushed (and refused, visibly).
        let evicted = 0
        if (page.removed?.length) {
          const queuedNow = new Set(
            (await db.outbox.where('id').anyOf(page.removed).toArray()).map((op) => op.id),
          )
          const leaving = page.removed.filter((id) => !queuedNow.has(id))
          await db.records.bulkDelete(leaving)
          evicted += leaving.length
        }
        if (!end) return evicted
        if (end.keepOnly) {
          const keep = end.keepOnly
          const queuedIds = new Set((await db.outbox.orderBy('id').uniqueKeys()).map(String))
          const local = (await db.records.toCollection().primaryKeys()) as string[]
          const notBrought = local.filter((id) => !keep.has(id))
          const leaving = notBrought.filter((id) => !queuedIds.has(id))
          await db.records.bulkDelete(leaving)
          evicted += leaving.length
          // A record kept for an op queued during this run: the old key stays, so the next run (which pushes that
          // op first) rebuilds again and drops the record if the server does not send it then.
          if (leaving.length < notBrought.length) return evicted
        }
        await db.setMeta('scopeKey', end.scopeKey)
        return evicted
      })
    },

    markSynced(at) {
      return db.setMeta('lastSyncAt', at)
    },

    wipe() {
      return db.transaction('rw', [...db.userDataTables(), db.meta], async () => {
        await Promise.all([...db.userDataTables(), db.meta].map((table) => table.clear()))
      })
    },
  }
}
