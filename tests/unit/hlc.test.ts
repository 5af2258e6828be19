import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  ClockError,
  createClock,
  formatStamp,
  parseStamp,
  receive,
  stampDrift,
  tick,
  type Clock,
} from '#shared/sync/hlc.ts'

describe('hybrid logical clock', () => {
  it('formats fixed-width stamps that round-trip', () => {
    const clock: Clock = { ms: 1_700_000_000_123, counter: 42, node: 'dev-A' }
    const stamp = formatStamp(clock)
    expect(stamp).toBe('1700000000123:002a:dev-A')
    expect(parseStamp(stamp)).toEqual(clock)
  })

  it('ticks forward even when the wall clock goes back', () => {
    let clock = createClock('dev1')
    const a = tick(clock, 5000)
    clock = a.clock
    const b = tick(clock, 1000)
    expect(b.stamp > a.stamp).toBe(true)
    expect(b.clock.ms).toBe(5000)
    expect(b.clock.counter).toBe(1)
  })

  it('receives remote stamps: the next local stamp is above them', () => {
    const local = createClock('aaaa')
    const remote = formatStamp({ ms: 9000, counter: 7, node: 'zzzz' })
    const after = receive(local, remote, 1000)
    expect(tick(after, 1000).stamp > remote).toBe(true)
  })

  it('string order equals (ms, counter, node) order, and ticks are strictly increasing (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(10_000), fc.boolean(), fc.nat(10_000), fc.nat(20)), { maxLength: 60 }),
        (steps) => {
          let clock = createClock('node-a')
          let last = ''
          for (const [now, fromRemote, remoteMs, remoteCounter] of steps) {
            if (fromRemote)
              clock = receive(
                clock,
                formatStamp({ ms: remoteMs, counter: remoteCounter, node: 'node-b' }),
                now,
              )
            const next = tick(clock, now)
            expect(next.stamp > last).toBe(true)
            last = next.stamp
            clock = next.clock
          }
        },
      ),
    )
  })

  it('refuses malformed stamps and node ids', () => {
    expect(() => parseStamp('12:3:x')).toThrow(ClockError)
    expect(() => createClock('has space')).toThrow(ClockError)
  })

  it('measures how far a stamp runs ahead of now', () => {
    const stamp = formatStamp({ ms: 10_000, counter: 0, node: 'n1' })
    expect(stampDrift(stamp, 4_000)).toBe(6_000)
    expect(stampDrift(stamp, 20_000)).toBe(0)
  })
})
