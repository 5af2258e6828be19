/**
 * The ports the sync engine runs against, so that it is testable without a browser or a server.
 * A Transport throws `TransportError` when the request may succeed later (network down, timeout, 5xx, a reply it
 * cannot read), `AuthError` on 401 (ask for the password again; nothing local is dropped), and `RequestError` when
 * the server rejected the request itself (other 4xx: retrying the same request will not help).
 */
import type { Stamp } from '#shared/sync/hlc.ts'
import type {
  Op,
  OpResult,
  PullQuery,
  PullResponse,
  PushRequest,
  PushResponse,
} from '#shared/sync/protocol.ts'

export interface Transport {
  push(request: PushRequest): Promise<PushResponse>
  pull(query: PullQuery): Promise<PullResponse>
}

export interface PushOutcome {
  applied: number
  refused: number
}

export interface LocalStore {
  /** The device id (made once, then kept); it is also the node of the device's clock. */
  deviceId(): Promise<string>
  /** The highest op seq in the outbox, 0 when it is empty. */
  lastOutboxSeq(): Promise<number>
  /** Outbox ops with afterSeq < seq <= upToSeq, in outbox order, at most `limit`, exactly as sent on the wire. */
  outboxBatch(afterSeq: number, upToSeq: number, limit: number): Promise<Op[]>
  countOutbox(upToSeq: number): Promise<number>
  /** In one transaction: acknowledged ops leave the outbox, refused ones move to `refused`, the clock receives. */
  applyPushResults(sent: readonly Op[], results: readonly OpResult[], clock: Stamp): Promise<PushOutcome>
  pullCursor(): Promise<number>
  /** In one transaction: merge the page's records, store its cursor, receive its clock. */
  applyPullPage(page: PullResponse): Promise<void>
  markSynced(at: number): Promise<void>
}

export interface SyncProgress {
  phase: 'push' | 'pull'
  done: number
  total?: number
}

export class TransportError extends Error {
  override name = 'TransportError'
  constructor(
    message: string,
    /** The HTTP status, when there was a response. */
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

export class AuthError extends Error {
  override name = 'AuthError'
  constructor(
    message: string,
    readonly code = 'unauthorized',
  ) {
    super(message)
  }
}

export class RequestError extends Error {
  override name = 'RequestError'
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly field?: string,
  ) {
    super(message)
  }
}
