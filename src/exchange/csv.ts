/**
 * CSV that Excel opens correctly and safely.
 *
 * Invariants:
 * - UTF-8 with a byte order mark (Excel otherwise reads Chinese as the ANSI code page), CRLF line ends, RFC 4180
 *   quoting (a cell with a comma, quote, CR or LF is quoted, quotes doubled).
 * - No formula injection: a text cell starting with = + - @ (or a tab or CR, which Excel skips before them) gets a
 *   leading apostrophe, so a spreadsheet shows it as text and never runs it. Numbers are written as numbers.
 */

export type CsvCell = string | number | boolean | null | undefined

export const BOM = '\uFEFF'

const FORMULA_START = /^[=+\-@\t\r]/

/** A cell as it may safely appear in a spreadsheet. */
export function safeCell(value: CsvCell): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : ''
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  const text = FORMULA_START.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/** The whole file's text, BOM first. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  const lines = [header, ...rows].map((row) => row.map(safeCell).join(','))
  return BOM + lines.join('\r\n') + '\r\n'
}
