/**
 * Dates and times as the app shows them: numbers only, in the phone's local time zone, per language.
 *
 *   short  zh-CN 11/23 09:05          en 11/23, 09:05
 *   long   zh-CN 2026/11/23 09:05     en 11/23/2026, 09:05
 *
 * Why not Intl.DateTimeFormat (vue-i18n's `d`): the first formatter a page makes loads ICU's date data, which took
 * Chromium 35–45 ms on the main thread on our test VM (several times that on a cheap phone), in the middle of the home
 * screen's first render (issue 6: Lighthouse's Total Blocking Time). These two numeric styles need no locale data,
 * and the output is the same as Intl's for them (also without ICU's "24:05" for five past midnight).
 */
import type { AppLocale } from './index.ts'

export type TimeStyle = 'short' | 'long'

const two = (n: number) => String(n).padStart(2, '0')

export function formatTime(value: number | Date, style: TimeStyle, locale: AppLocale): string {
  const at = new Date(value)
  if (Number.isNaN(at.getTime())) return ''
  const month = two(at.getMonth() + 1)
  const day = two(at.getDate())
  const time = `${two(at.getHours())}:${two(at.getMinutes())}`
  const year = at.getFullYear()
  if (locale === 'en')
    return style === 'long' ? `${month}/${day}/${year}, ${time}` : `${month}/${day}, ${time}`
  return style === 'long' ? `${year}/${month}/${day} ${time}` : `${month}/${day} ${time}`
}
