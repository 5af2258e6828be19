/**
 * One sync run: push the outbox, then pull pages until the server has no more.
 *
 * Invariants:
 * - Ops leave the outbox only through the server's answer: `applied` (acknowledged) or `refused` (kept in the
 *   refused table with the reason). An op the answer does not mention stays queued for the next run.
 * - Pushes go in outbox order, in bounded batches, and only the ops that were queued when the run began (later ones
 *   are for the next run, so a busy user cannot keep a run going forever). A batch retried after a lost response is
 *   harmless: the server answers per (device, op seq) the same way again.
 * - Pulls follow the server's cursor; each page is applied with its cursor in one local transaction, so an
 *   interrupted run resumes where it stopped.
 */
import { DEFAULT_PULL_LIMIT, MAX_PUSH_OPS, PROTOCOL_VERSION } from '#shared/sync/protocol.ts'
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
}

export const DEFAULT_PUSH_BATCH = 200

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
    const summary: SyncSummary = { pushed: 0, refused: 0, pulled: 0 }

    const upTo = await this.store.lastOutboxSeq()
    const total = await this.store.countOutbox(upTo)
    let done = 0
    onProgress({ phase: 'push', done, total })
    for (let after = 0; ;) {
      const ops = await this.store.outboxBatch(after, upTo, this.pushBatchSize)
      const last = ops.at(-1)
      if (!last) break
      const response = await this.transport.push({ protocol: PROTOCOL_VERSION, deviceId, ops })
      const outcome = await this.store.applyPushResults(ops, response.results, response.clock)
      summary.pushed += outcome.applied
      summary.refused += outcome.refused
      after = last.seq
      done += ops.length
      onProgress({ phase: 'push', done: Math.min(done, total), total })
    }

    let cursor = await this.store.pullCursor()
    onProgress({ phase: 'pull', done: 0 })
    for (;;) {
      const page = await this.transport.pull({
        deviceId,
        since: cursor,
        limit: this.pullLimit,
        protocol: PROTOCOL_VERSION,
      })
      await this.store.applyPullPage(page)
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
}
