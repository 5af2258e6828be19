/** A visit's day, as typed (YYYY-MM-DD, local time), and the ms timestamp stored (that day's local noon). */
export function dateOfMs(ms: number): string {
  const date = new Date(ms)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
}

/** The timestamp of a typed day, or null when it is not a real date. */
export function msOfDate(text: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim())
  if (!match) return null
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  const date = new Date(year, month - 1, day, 12)
  return date.getMonth() === month - 1 && date.getDate() === day ? date.getTime() : null
}
