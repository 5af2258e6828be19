/**
 * When to sync: on start, on `online`, when the page becomes visible, on a timer and shortly after a local change.
 * Never two runs at once (a trigger during a run queues one more run). After a failure it waits with exponential
 * backoff and jitter (capped); after an AuthError it stops until `resume()` (after the user logs in again), since
 * retrying cannot help. Does not rely on Background Sync.
 */
import { AuthError } from './ports.ts'

interface VisibilityTarget extends EventTarget {
  readonly visibilityState: string
}

export interface SyncSchedulerOptions {
  /** One sync run; throws on failure. */
  run: () => Promise<unknown>
  /** A uniform random number in [0, 1), for the jitter. */
  random: () => number
  intervalMs?: number
  nudgeDelayMs?: number
  backoffBaseMs?: number
  backoffMaxMs?: number
  isOnline?: () => boolean
  /** Where `online` fires (the window). */
  connectivity?: EventTarget | null
  /** Where `visibilitychange` fires (the document). */
  visibility?: VisibilityTarget | null
}

export type SyncTrigger = 'start' | 'online' | 'visible' | 'timer' | 'change' | 'manual' | 'resume'

export class SyncScheduler {
  private readonly options: SyncSchedulerOptions
  private started = false
  private blockedByAuth = false
  private failureCount = 0
  private timer: ReturnType<typeof setTimeout> | null = null
  private timerAt = 0
  private current: Promise<boolean> | null = null
  private again = false
  private readonly onOnline = () => {
    this.failureCount = 0
    this.trigger('online')
  }
  private readonly onVisibility = () => {
    if (this.options.visibility?.visibilityState === 'visible' && this.failureCount === 0)
      this.trigger('visible')
  }

  constructor(options: SyncSchedulerOptions) {
    this.options = options
  }

  get running(): boolean {
    return this.current !== null
  }
  get failures(): number {
    return this.failureCount
  }
  /** True after an AuthError, until `resume()`. */
  get blocked(): boolean {
    return this.blockedByAuth
  }
  /** When the next timed run is due (ms, from the clock `setTimeout` uses), or null. */
  get nextRunAt(): number | null {
    return this.timer === null ? null : this.timerAt
  }

  start(): void {
    if (this.started) return
    this.started = true
    this.options.connectivity?.addEventListener('online', this.onOnline)
    this.options.visibility?.addEventListener('visibilitychange', this.onVisibility)
    this.trigger('start')
  }

  /** Stops timers and listeners; a run under way finishes. */
  stop(): void {
    this.started = false
    this.options.connectivity?.removeEventListener('online', this.onOnline)
    this.options.visibility?.removeEventListener('visibilitychange', this.onVisibility)
    this.clearTimer()
    this.again = false
  }

  /** A local change was made: sync shortly (not sooner than a backoff allows). */
  nudge(): void {
    if (!this.started || this.blockedByAuth || this.failureCount > 0) return
    if (this.current) this.again = true
    else this.schedule(this.options.nudgeDelayMs ?? 3_000)
  }

  /** After logging in again: clear the auth block and sync now. */
  resume(): void {
    this.blockedByAuth = false
    this.failureCount = 0
    this.trigger('resume')
  }

  /** Sync now, whatever the backoff or auth block says (the user asked). Resolves with whether it succeeded. */
  async runNow(): Promise<boolean> {
    while (this.current) await this.current
    return this.execute()
  }

  private trigger(_reason: SyncTrigger): void {
    if (!this.started || this.blockedByAuth) return
    if (this.options.isOnline && !this.options.isOnline()) return
    if (this.current) this.again = true
    else void this.execute()
  }

  private execute(): Promise<boolean> {
    this.clearTimer()
    const run = (async () => {
      try {
        await this.options.run()
        this.failureCount = 0
        this.blockedByAuth = false
        if (this.started) this.schedule(this.options.intervalMs ?? 60_000)
        return true
      } catch (error) {
        if (error instanceof AuthError) {
          this.blockedByAuth = true
        } else {
          this.failureCount++
          if (this.started) this.schedule(this.backoffDelay())
        }
        return false
      }
    })()
    this.current = run
    void run.then((ok) => {
      this.current = null
      // After a failure the backoff timer is the next run; changes made meanwhile go with it.
      if (!ok) this.again = false
      if (this.again && this.started) {
        this.again = false
        this.trigger('change')
      }
    })
    return run
  }

  /** Exponential backoff with equal jitter: half the step fixed, half random; never above the cap. */
  private backoffDelay(): number {
    const base = this.options.backoffBaseMs ?? 5_000
    const max = this.options.backoffMaxMs ?? 300_000
    const step = Math.min(max, base * 2 ** Math.min(this.failureCount - 1, 30))
    return Math.round(step / 2 + this.options.random() * (step / 2))
  }

  private schedule(delay: number): void {
    const at = Date.now() + delay
    if (this.timer !== null && this.timerAt <= at) return
    this.clearTimer()
    this.timerAt = at
    this.timer = setTimeout(() => {
      this.timer = null
      this.trigger('timer')
    }, delay)
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }
}
