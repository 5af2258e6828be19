/**
 * The ports the sync engine runs against, so that it is testable without a browser or a server.
 * A Transport throws `TransportError` when the request may succeed later (network down, timeout, 5xx, a reply it
 * cannot read), `AuthError` when the session is no longer good (ask for the password again; nothing local is
 * dropped), and `RequestError` when the server rejected the request itself (other 4xx: retrying the same request
 * will not help).
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
  /** Tell the server that this device wiped itself (after an admin asked); the server then revokes its session. */
  confirmWiped(): Promise<void>
}

/** How the last page of a pull run ends it: the scope key to keep and, after a rebuild, the ids to keep. */
export interface PullEnd {
  scopeKey: string
  /** Rebuild: every id the run brought. Local records not among them and without queued ops leave the device. */
  keepOnly?: ReadonlySet<string>
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
  /**
   * The clock receives and the device's op seq and clock are raised past the answered ops; then, in one transaction,
   * acknowledged ops leave the outbox and refused ones move to `refused`.
   */
  applyPushResults(sent: readonly Op[], results: readonly OpResult[], clock: Stamp): Promise<PushOutcome>
  pullCursor(): Promise<number>
  /** The scope key of the last completed pull run, null before the first one. */
  scopeKey(): Promise<string | null>
  /**
   * In one transaction: merge the page's records, store its cursor, receive its clock; with `end` (the run's last
   * page) also store the scope key and drop what a rebuild did not bring. Resolves with how many records left.
   */
  applyPullPage(page: PullResponse, end?: PullEnd): Promise<number>
  markSynced(at: number): Promise<void>
  /**
   * In one transaction: delete every local record, op, refusal, area and meta value (session, cursor, scope key,
   * clock, device id). The device comes back as a new device with no user.
   */
  wipe(): Promise<void>
}

export interface SyncProgress {
  phase: 'push' | 'pull'
  done: number
  total?: number
}

export interface TransportErrorOptions extends ErrorOptions {
  /** The server's error code, when it sent one (e.g. `too_many_attempts`). */
  code?: string
  /** From a Retry-After header: how long to wait, in seconds. */
  retryAfterSeconds?: number
}

export class TransportError extends Error {
  override name = 'TransportError'
  readonly code: string | undefined
  readonly retryAfterSeconds: number | undefined
  constructor(
    message: string,
    /** The HTTP status, when there was a response. */
    readonly status?: number,
    options: TransportErrorOptions = {},
  ) {
    super(message, options)
    this.code = options.code
    this.retryAfterSeconds = options.retryAfterSeconds
  }
}

/** The session is not (or no longer) good: 401, a refused refresh, a disabled account or another device's token. */
export class AuthError extends Error {
  override name = 'AuthError'
  constructor(
    message: string,
    readonly code = 'unauthorized',
    readonly status = 401,
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
