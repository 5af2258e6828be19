import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { SyncScheduler } from '../../src/sync/SyncScheduler.ts'
import type { SyncSchedulerOptions } from '../../src/sync/SyncScheduler.ts'
import { AuthError, TransportError } from '../../src/sync/ports.ts'

class FakeDocument extends EventTarget {
  visibilityState = 'visible'
  show(state: 'visible' | 'hidden') {
    this.visibilityState = state
    this.dispatchEvent(new Event('visibilitychange'))
  }
}

/** A controllable run: each call waits until the test settles it. */
function controlledRun() {
  const calls: { resolve: () => void; reject: (error: unknown) => void }[] = []
  let active = 0
  let maxActive = 0
  const run = () =>
    new Promise<void>((resolve, reject) => {
      active++
      maxActive = Math.max(maxActive, active)
      const done = () => active--
      calls.push({
        resolve: () => (done(), resolve()),
        reject: (error) => (done(), reject(error)),
      })
    })
  return { run, calls, maxActive: () => maxActive }
}

function makeScheduler(overrides: Partial<SyncSchedulerOptions> = {}) {
  const control = controlledRun()
  const connectivity = new EventTarget()
  const visibility = new FakeDocument()
  let online = true
  const scheduler = new SyncScheduler({
    run: control.run,
    random: () => 0.5,
    intervalMs: 60_000,
    nudgeDelayMs: 3_000,
    backoffBaseMs: 5_000,
    backoffMaxMs: 300_000,
    isOnline: () => online,
    connectivity,
    visibility,
    ...overrides,
  })
  return {
    scheduler,
    ...control,
    visibility,
    goOnline() {
      online = true
      connectivity.dispatchEvent(new Event('online'))
    },
    goOffline() {
      online = false
    },
  }
}

/** Let the promise callbacks of a settled run finish. */
const settle = () => vi.advanceTimersByTimeAsync(0)

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('SyncScheduler', () => {
  it('runs on start, then on the timer after a success', async () => {
    const s = makeScheduler()
    s.scheduler.start()
    expect(s.calls).toHaveLength(1)
    s.calls[0]!.resolve()
    await settle()
    await vi.advanceTimersByTimeAsync(59_999)
    expect(s.calls).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(s.calls).toHaveLength(2)
    s.scheduler.stop()
  })

  it('never runs twice at once: triggers during a run queue exactly one more run', async () => {
    const s = makeScheduler()
    s.scheduler.start()
    s.goOnline()
    s.visibility.show('visible')
    s.scheduler.nudge()
    expect(s.calls).toHaveLength(1)
    s.calls[0]!.resolve()
    await settle()
    expect(s.calls).toHaveLength(2)
    s.calls[1]!.resolve()
    await settle()
    expect(s.calls).toHaveLength(2)
    expect(s.maxActive()).toBe(1)
    s.scheduler.stop()
  })

  it('syncs shortly after a local change', async () => {
    const s = makeScheduler()
    s.scheduler.start()
    s.calls[0]!.resolve()
    await settle()
    s.scheduler.nudge()
    await vi.advanceTimersByTimeAsync(2_999)
    expect(s.calls).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(s.calls).toHaveLength(2)
    s.scheduler.stop()
  })

  it('backs off exponentially with jitter after failures, capped at the maximum', async () => {
    const jitter = [0, 0.999, 0.5, 0, 0, 0, 0, 0.999, 0.999]
    const s = makeScheduler({ random: () => jitter.shift() ?? 0 })
    s.scheduler.start()
    const delays: number[] = []
    for (let failure = 1; failure <= 9; failure++) {
      const before = Date.now()
      s.calls.at(-1)!.reject(new TransportError('down'))
      await settle()
      delays.push(s.scheduler.nextRunAt! - before)
      await vi.advanceTimersByTimeAsync(s.scheduler.nextRunAt! - Date.now())
      expect(s.calls).toHaveLength(failure + 1)
    }
    // steps 5 s, 10 s, 20 s, … capped at 300 s; each delay is half the step plus up to half again at random
    expect(delays).toEqual([2_500, 9_995, 15_000, 20_000, 40_000, 80_000, 150_000, 299_850, 299_850])
    expect(s.scheduler.failures).toBe(9)
    s.calls.at(-1)!.resolve()
    await settle()
    expect(s.scheduler.failures).toBe(0)
    expect(s.scheduler.nextRunAt! - Date.now()).toBe(60_000)
    s.scheduler.stop()
  })

  it('a change during backoff does not cut the backoff short', async () => {
    const s = makeScheduler()
    s.scheduler.start()
    s.calls[0]!.reject(new TransportError('down'))
    await settle()
    const due = s.scheduler.nextRunAt
    s.scheduler.nudge()
    expect(s.scheduler.nextRunAt).toBe(due)
    s.scheduler.stop()
  })

  it('coming online retries at once, even during a backoff', async () => {
    const s = makeScheduler()
    s.scheduler.start()
    s.calls[0]!.reject(new TransportError('down'))
    await settle()
    s.goOnline()
    expect(s.calls).toHaveLength(2)
    s.scheduler.stop()
  })

  it('syncs when the page becomes visible', async () => {
    const s = makeScheduler()
    s.scheduler.start()
    s.calls[0]!.resolve()
    await settle()
    s.visibility.show('hidden')
    expect(s.calls).toHaveLength(1)
    s.visibility.show('visible')
    expect(s.calls).toHaveLength(2)
    s.scheduler.stop()
  })

  it('stops retrying after an AuthError until resumed', async () => {
    const s = makeScheduler()
    s.scheduler.start()
    s.calls[0]!.reject(new AuthError('expired'))
    await settle()
    expect(s.scheduler.blocked).toBe(true)
    expect(s.scheduler.nextRunAt).toBeNull()
    s.goOnline()
    s.visibility.show('visible')
    s.scheduler.nudge()
    await vi.advanceTimersByTimeAsync(600_000)
    expect(s.calls).toHaveLength(1)
    s.scheduler.resume()
    expect(s.calls).toHaveLength(2)
    s.scheduler.stop()
  })

  it('does not run while offline and runs when the connection returns', async () => {
    const s = makeScheduler()
    s.goOffline()
    s.scheduler.start()
    expect(s.calls).toHaveLength(0)
    s.goOnline()
    expect(s.calls).toHaveLength(1)
    s.scheduler.stop()
  })

  it('runNow runs after the current run and reports the outcome', async () => {
    const s = makeScheduler()
    s.scheduler.start()
    const manual = s.scheduler.runNow()
    s.calls[0]!.resolve()
    await settle()
    expect(s.calls).toHaveLength(2)
    s.calls[1]!.reject(new TransportError('down'))
    expect(await manual).toBe(false)
    expect(s.maxActive()).toBe(1)
    s.scheduler.stop()
  })

  it('after stop, nothing runs', async () => {
    const s = makeScheduler()
    s.scheduler.start()
    s.calls[0]!.resolve()
    await settle()
    s.scheduler.stop()
    s.goOnline()
    await vi.advanceTimersByTimeAsync(600_000)
    expect(s.calls).toHaveLength(1)
  })
})
