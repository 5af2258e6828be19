import { describe, expect, it } from 'vitest'
import { formatTime } from '../../src/i18n/formatTime.ts'

/** What vue-i18n's `d` gave before (Intl.DateTimeFormat with the app's two formats), the reference for each style. */
const intl = {
  short: { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
  long: {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  },
} as const

const times = [
  new Date(2026, 0, 5, 3, 7).getTime(),
  new Date(2026, 10, 23, 23, 59).getTime(),
  new Date(2026, 11, 31, 12, 0).getTime(),
  new Date(1999, 1, 28, 0, 5).getTime(),
]

describe('formatTime', () => {
  it.each(['zh-CN', 'en'] as const)('matches Intl for %s in both styles, in local time', (locale) => {
    for (const at of times) {
      for (const style of ['short', 'long'] as const) {
        expect(formatTime(at, style, locale), `${style} ${new Date(at).toString()}`).toBe(
          new Intl.DateTimeFormat(locale, intl[style]).format(at),
        )
      }
    }
  })

  it('writes five past midnight as 00:05, and takes a Date', () => {
    const at = new Date(2026, 10, 23, 0, 5)
    expect(formatTime(at, 'short', 'zh-CN')).toBe('11/23 00:05')
    expect(formatTime(at.getTime(), 'long', 'en')).toBe('11/23/2026, 00:05')
  })

  it('shows nothing for a time that is not one', () => {
    expect(formatTime(Number.NaN, 'long', 'zh-CN')).toBe('')
  })
})
