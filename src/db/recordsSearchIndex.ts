/**
 * Keeps a SearchIndex in step with the `records` table: a Dexie DBCore middleware sees every write to it (puts from
 * local edits and pull pages, deletes, clears) whatever API made it, collects them per transaction and applies them
 * when that transaction commits. Other tabs of the app learn of the change over a BroadcastChannel and re-read those
 * records, so an index is never left behind by a write it did not make.
 */
import { Dexie, type DBCoreMutateRequest, type DBCoreMutateResponse, type DBCoreTransaction } from 'dexie'
import { SearchIndex, type IndexableRecord, type IndexChanges } from './SearchIndex.ts'

type Pending = { records: Map<string, IndexableRecord | null>; cleared: boolean }
type Message = { ids: string[] } | { cleared: true }

export interface RecordsSource {
  readonly name: string
  /** Up to `limit` records by id, after `afterId` (from the first when null). */
  chunk(afterId: string | null, limit: number): Promise<IndexableRecord[]>
  /** Records by id, undefined where there is none. */
  getMany(ids: string[]): Promise<(IndexableRecord | undefined)[]>
}

/** The changes one mutate request makes (failed items left out). */
function collect(pending: Pending, request: DBCoreMutateRequest, response: DBCoreMutateResponse): void {
  const failed = (index: number) => response.failures[index] !== undefined
  switch (request.type) {
    case 'add':
    case 'put':
      request.values.forEach((value: IndexableRecord, index) => {
        if (!failed(index)) pending.records.set(value.id, value)
      })
      return
    case 'delete':
      for (const key of request.keys) pending.records.set(String(key), null)
      return
    case 'deleteRange':
      // Only clear() deletes a range of records: drop everything, the next use reloads from storage.
      pending.records.clear()
      pending.cleared = true
  }
}

export function createRecordsSearchIndex(db: Dexie, source: RecordsSource): SearchIndex {
  const index = new SearchIndex((afterId, limit) =>
    Dexie.ignoreTransaction(() => source.chunk(afterId, limit)),
  )
  const channel =
    typeof BroadcastChannel === 'function' ? new BroadcastChannel(`gridpatrol-records:${source.name}`) : null
  // Node's BroadcastChannel (unit tests) would otherwise keep the process alive.
  ;(channel as unknown as { unref?: () => void } | null)?.unref?.()
  // A transaction may complete after its database was closed (logout, wipe, tests): then there is no one to tell.
  let channelOpen = channel !== null
  db.on('close', () => {
    channelOpen = false
    channel?.close()
  })

  const byTransaction = new WeakMap<DBCoreTransaction, Pending>()
  function pendingOf(trans: DBCoreTransaction): Pending {
    let pending = byTransaction.get(trans)
    if (pending) return pending
    pending = { records: new Map(), cleared: false }
    byTransaction.set(trans, pending)
    const committed = pending
    const native = trans as unknown as Partial<IDBTransaction>
    native.addEventListener?.('complete', () => {
      index.apply(committed)
      tellOtherTabs(committed)
    })
    return pending
  }

  // Other tabs hear of writes in one message per task, after the writer's own code has gone on (a save is not
  // slowed by it; a pull page's thousand records are one message). A clear makes them reload everything anyway.
  let outgoing: { ids: Set<string>; cleared: boolean } | null = null
  function tellOtherTabs(committed: Pending) {
    if (!channelOpen) return
    if (!outgoing) {
      outgoing = { ids: new Set(), cleared: false }
      setTimeout(() => {
        const message: Message | null = outgoing?.cleared
          ? { cleared: true }
          : outgoing
            ? { ids: [...outgoing.ids] }
            : null
        outgoing = null
        if (message && channelOpen) channel?.postMessage(message)
      }, 0)
    }
    if (committed.cleared) outgoing.cleared = true
    for (const id of committed.records.keys()) outgoing.ids.add(id)
  }

  if (channel) {
    channel.onmessage = async (event: MessageEvent<Message>) => {
      if ('cleared' in event.data) return index.apply({ records: new Map(), cleared: true })
      const ids = event.data.ids
      const rows = await source.getMany(ids)
      const records = new Map<string, IndexableRecord | null>()
      ids.forEach((id, i) => records.set(id, rows[i] ?? null))
      index.apply({ records, cleared: false } satisfies IndexChanges)
    }
  }

  db.use({
    stack: 'dbcore',
    name: 'recordsSearchIndex',
    create: (down) => ({
      ...down,
      table: (name) => {
        const table = down.table(name)
        if (name !== 'records') return table
        return {
          ...table,
          mutate: async (request) => {
            const response = await table.mutate(request)
            collect(pendingOf(request.trans), request, response)
            return response
          },
        }
      },
    }),
  })
  return index
}
