/**
 * Hybrid logical clock (Kulkarni et al. 2014). Every field write carries a stamp; the higher stamp wins.
 *
 * Invariants:
 * - A stamp is a fixed-width string `mmmmmmmmmmmmm:cccc:node` (13-digit ms, 4-hex counter, node id), so plain string
 *   comparison is stamp order, in JavaScript, in IndexedDB and in SQL alike.
 * - A clock never goes backwards: `tick` and `receive` return a stamp greater than every stamp the clock has issued
 *   or received, whatever the wall clock says.
 * - The node id (the device id) breaks ties, so two devices never issue the same stamp.
 * Pure: the wall clock `now` is passed in.
 */
export type Stamp = string

export interface Clock {
  readonly ms: number
  readonly counter: number
  readonly node: string
}

const MS_WIDTH = 13
const COUNTER_WIDTH = 4
const MAX_COUNTER = 0xffff
const NODE_PATTERN = /^[A-Za-z0-9_-]{1,64}$/
export const STAMP_PATTERN = /^\d{13}:[0-9a-f]{4}:[A-Za-z0-9_-]{1,64}$/

export class ClockError extends Error {
  override name = 'ClockError'
}

export function createClock(node: string, ms = 0): Clock {
  if (!NODE_PATTERN.test(node)) throw new ClockError(`invalid clock node id: ${JSON.stringify(node)}`)
  return { ms, counter: 0, node }
}

export function formatStamp(clock: Clock): Stamp {
  return `${String(clock.ms).padStart(MS_WIDTH, '0')}:${clock.counter.toString(16).padStart(COUNTER_WIDTH, '0')}:${clock.node}`
}

export function parseStamp(stamp: Stamp): Clock {
  if (!STAMP_PATTERN.test(stamp)) throw new ClockError(`invalid stamp: ${JSON.stringify(stamp)}`)
  const [ms, counter, node] = stamp.split(':') as [string, string, string]
  return { ms: Number(ms), counter: parseInt(counter, 16), node }
}

function checked(clock: Clock): Clock {
  if (clock.counter > MAX_COUNTER)
    throw new ClockError('clock counter overflow: too many writes in one millisecond')
  if (clock.ms >= 10 ** MS_WIDTH) throw new ClockError('clock beyond its range')
  return clock
}

/** The clock's next stamp for a local write. */
export function tick(clock: Clock, now: number): { clock: Clock; stamp: Stamp } {
  const ms = Math.max(clock.ms, Math.floor(now))
  const next = checked({ ms, counter: ms === clock.ms ? clock.counter + 1 : 0, node: clock.node })
  return { clock: next, stamp: formatStamp(next) }
}

/** Advance the clock past a stamp seen from elsewhere (a server response, a pulled record). */
export function receive(clock: Clock, remote: Stamp, now: number): Clock {
  const r = parseStamp(remote)
  const ms = Math.max(clock.ms, r.ms, Math.floor(now))
  let counter = 0
  if (ms === clock.ms && ms === r.ms) counter = Math.max(clock.counter, r.counter) + 1
  else if (ms === clock.ms) counter = clock.counter + 1
  else if (ms === r.ms) counter = r.counter + 1
  return checked({ ms, counter, node: clock.node })
}

export function stampMs(stamp: Stamp): number {
  return parseStamp(stamp).ms
}

export function stampNode(stamp: Stamp): string {
  return parseStamp(stamp).node
}

/** How far a stamp runs ahead of `now`, in ms (0 when it does not). */
export function stampDrift(stamp: Stamp, now: number): number {
  return Math.max(0, stampMs(stamp) - now)
}

export function maxStamp(a: Stamp | null | undefined, b: Stamp | null | undefined): Stamp | null {
  if (!a) return b ?? null
  if (!b) return a
  return a > b ? a : b
}
