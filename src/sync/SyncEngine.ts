/**
 * One sync run: push the outbox, then pull pages until the server has no more.
 *
 * Invariants:
 * - Ops leave the outbox only through the server's answer: `applied` (acknowledged) or `refused` (kept in the
 *   refused table with the reason). An op the answer does not mention stays queued for the next run.
 * - Pushes go in outbox order, in bounded batches, and only the ops that were queued when the run began (later ones
 *   are for the next run, so a busy user cannot keep a run going forever). A batch retried after a lost response is
 *   harmless: the server answers per (device, op seq) the same way again. The next batch is sent while the answers
 *   to one are written (only after the server answered it), and answers are written in batch order.
 * - Pulls follow the server's cursor; each page is applied with its cursor in one local transaction, so an
 *   interrupted run resumes where it stopped. The next page is asked for while one is written, but pages are
 *   applied strictly one after another.
 * - Scope: the scope key is stored only with the last page of a run. A page whose key differs from the stored one
 *   (the user was reassigned, a grid moved) restarts the pull from 0 as a rebuild; its last page drops, in the same
 *   transaction, every local record the rebuild did not bring and that has no queued op. The push ran first, so the
 *   pending changes of those records were pushed or refused (a refusal stays listed after its record left). An
 *   interrupted rebuild leaves the old key stored, so the next run rebuilds again.
 * - Wipe: an answer with `wipe` is applied (push results), the rest of the outbox is offered to the server, the
 *   server is told, and then everything local goes, whatever the network does meanwhile.
 */
import { DEFAULT_PULL_LIMIT, MAX_PUSH_OPS, PROTOCOL_VERSION } from '#shared/sync/protocol.ts'
import type { PullResponse } from '#shared/sync/protocol.ts'
import type { LocalStore, SyncProgress, Transport } from './ports.ts'
import { TransportError } from './ports.ts'

export interface SyncEngineOptions {
  store: LocalStore
  transport: Transport
  now: () => number
  pushBatchSize?: number
  pullLimit?: number
}

export interface SyncSummary {
  pushed: number
  refused: number
  pulled: number
  /** The scope changed: the pull ran again from 0 and the records it did not bring left the device. */
  rebuilt: boolean
  /** How many local records left the device because they are out of the user's scope now. */
  evicted: number
  /** An admin wiped this device: every local datum and the session are gone. */
  wiped: boolean
}

export const DEFAULT_PUSH_BATCH = 200
/** A scope that changes again and again during one run is not worth chasing: the next run starts afresh. */
const MAX_REBUILDS_PER_RUN = 3

export class SyncEngine {
  private readonly store: LocalStore
  private readonly transport: Transport
  private readonly now: () => number
  private readonly pushBatchSize: number
  private readonly pullLimit: number

  constructor(options: SyncEngineOptions) {
    this.store = options.store
    this.transport = options.transport
    this.now = options.now
    this.pushBatchSize = Math.min(Math.max(1, options.pushBatchSize ?? DEFAULT_PUSH_BATCH), MAX_PUSH_OPS)
    this.pullLimit = options.pullLimit ?? DEFAULT_PULL_LIMIT
  }

  async sync(onProgress: (progress: SyncProgress) => void = () => {}): Promise<SyncSummary> {
    const deviceId = await this.store.deviceId()
    const summary: SyncSummary = {
      pushed: 0,
      refused: 0,
      pulled: 0,
      rebuilt: false,
      evicted: 0,
      wiped: false,
    }

    const upTo = await this.store.lastOutboxSeq()
    const total = await this.store.countOutbox(upTo)
    let done = 0
    let wipe = false
    onProgress({ phase: 'push', done, total })
    /** The batch after `after` and the server's answer to it; null when the outbox has nothing more. */
    const sendBatch = async (after: number) => {
      const ops = await this.store.outboxBatch(after, upTo, this.pushBatchSize)
      if (ops.length === 0) return null
      return { ops, response: await this.transport.push({ protocol: PROTOCOL_VERSION, deviceId, ops }) }
    }
    let next = sendBatch(0)
    for (;;) {
      let sent
      try {
        sent = await next
      } catch (error) {
        // Being wiped: what could not be pushed now never will be; the wipe must not wait for the network.
        if (wipe) break
        throw error
      }
      if (!sent) break
      const { ops, response } = sent
      // Send the next batch while this one's answers are written (the server has applied this one already). If
      // writing them fails, the next batch's ops stay queued and the server answers them again next time.
      next = sendBatch(ops.at(-1)!.seq)
      next.catch(() => undefined)
      const outcome = await this.store.applyPushResults(ops, response.results, response.clock)
      summary.pushed += outcome.applied
      summary.refused += outcome.refused
      wipe ||= response.wipe === true
      done += ops.length
      onProgress({ phase: 'push', done: Math.min(done, total), total })
    }
    if (wipe) return this.wipe(summary)

    const stored = await this.store.scopeKey()
    let expected = stored
    let cursor = await this.store.pullCursor()
    /** Rebuild mode: the ids this run brought. */
    let brought: Set<string> | null = null
    let rebuilds = 0
    onProgress({ phase: 'pull', done: 0 })
    const fetchPage = (since: number) =>
      this.transport.pull({ deviceId, since, limit: this.pullLimit, protocol: PROTOCOL_VERSION })
    /** The next page, asked for while this one is written (see below); null when not asked for yet. */
    let prefetched: { since: number; page: Promise<PullResponse> } | null = null
    for (;;) {
      const page: PullResponse = await (prefetched?.since === cursor ? prefetched.page : fetchPage(cursor))
      prefetched = null
      if (page.wipe) return this.wipe(summary)
      // The first pull of a device is an ordinary one: it has nothing from another scope to drop.
      expected ??= page.scopeKey
      if (page.scopeKey !== expected) {
        if (++rebuilds > MAX_REBUILDS_PER_RUN)
          throw new TransportError('the scope kept changing during the pull; trying again later')
        expected = page.scopeKey
        brought = new Set()
        summary.rebuilt = true
        if (cursor !== 0) {
          cursor = 0
          continue
        }
      }
      if (brought) for (const record of page.records) brought.add(record.id)
      const end = page.more
        ? undefined
        : { scopeKey: page.scopeKey, ...(brought ? { keepOnly: brought } : {}) }
      // Ask for the next page while this one is written: the network and IndexedDB then work at the same time
      // (a page is only ever applied after the one before it, so the cursor still moves page by page). If writing
      // fails, the prefetched page is dropped unread.
      if (page.more && page.cursor > cursor) {
        prefetched = { since: page.cursor, page: fetchPage(page.cursor) }
        prefetched.page.catch(() => undefined)
      }
      summary.evicted += await this.store.applyPullPage(page, end)
      summary.pulled += page.records.length
      onProgress({ phase: 'pull', done: summary.pulled })
      if (!page.more) break
      if (page.cursor <= cursor)
        throw new TransportError('the server said there is more but its cursor did not move')
      cursor = page.cursor
    }

    await this.store.markSynced(this.now())
    return summary
  }

  private async wipe(summary: SyncSummary): Promise<SyncSummary> {
    // The server's record of the wipe is good to have, but the data must go even if it cannot be told.
    await this.transport.confirmWiped().catch(() => undefined)
    await this.store.wipe()
    return { ...summary, wiped: true }
  }
}
