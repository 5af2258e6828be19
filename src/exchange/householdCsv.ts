/**
 * Households from a CSV file (批量导入): the template, and a parse that checks every row with the same shared zod
 * schema the forms and the server use (validateFields), reporting each bad row with its row number, column and
 * reason. Nothing is written here: the caller imports the valid rows, all in one transaction.
 *
 * Invariants:
 * - Row numbers are the file's own: the header is row 1, the first data row row 2 (as a spreadsheet shows them).
 * - Columns are found by their Chinese header (the template's) or their field name, in any order; unknown columns are
 *   ignored; a missing required column fails the whole file, not each row.
 * - A cell our export defused (a leading apostrophe before = + - @) is read back without the apostrophe.
 * - Empty cells are left out (optional fields stay unset); the grid must be one the importing user may write to.
 */
import Papa from 'papaparse'
import { HOUSING_TYPES, validateFields, type Household } from '#shared/schemas/records.ts'
import { BOM, toCsv } from './csv.ts'

export const HOUSEHOLD_CSV_COLUMNS = [
  { key: 'gridId', header: '网格编码', required: true },
  { key: 'address', header: '地址', required: true },
  { key: 'houseNumber', header: '门牌号', required: false },
  { key: 'housing', header: '住房情况', required: true },
  { key: 'headName', header: '户主姓名', required: true },
  { key: 'headPhone', header: '户主电话', required: false },
  { key: 'memberCount', header: '家庭人数', required: false },
  { key: 'lat', header: '纬度', required: false },
  { key: 'lng', header: '经度', required: false },
  { key: 'notes', header: '备注', required: false },
] as const
export type HouseholdCsvColumn = (typeof HOUSEHOLD_CSV_COLUMNS)[number]['key']

/** 住房情况 as written in the file: the Chinese label or the code. */
export const HOUSING_LABELS: Readonly<Record<string, Household['housing']>> = {
  自有: 'owned',
  租赁: 'rented',
  借住: 'borrowed',
  ...Object.fromEntries(HOUSING_TYPES.map((type) => [type, type])),
}

export type RowProblem =
  | 'required'
  | 'housing'
  | 'number'
  | 'location'
  | 'grid'
  /** The shared schema's own message (Chinese) is in `message`. */
  | 'schema'

export interface RowError {
  /** The column's key (HOUSEHOLD_CSV_COLUMNS), or the schema's field name. */
  column: string
  problem: RowProblem
  message: string
}

export interface ParsedRow {
  /** The row number in the file (header = 1). */
  row: number
  /** The validated fields, when the row has no errors. */
  fields: Household | null
  /** What the row said, by column (for the preview). */
  cells: Partial<Record<HouseholdCsvColumn, string>>
  errors: RowError[]
}

export type ParseResult =
  { ok: true; rows: ParsedRow[] } | { ok: false; missingColumns: HouseholdCsvColumn[]; rows: [] }

/** The template: the header and one example row, BOM first (Excel opens it as UTF-8). */
export function householdTemplate(): string {
  return toCsv(
    HOUSEHOLD_CSV_COLUMNS.map((column) => column.header),
    [['330523101001001', '横山村', '12号', '自有', '张三', '13800001234', 3, 30.605, 119.605, '']],
  )
}

const DEFUSED = /^'[=+\-@\t\r]/

function cellText(value: string | undefined): string {
  const text = (value ?? '').trim()
  return DEFUSED.test(text) ? text.slice(1) : text
}

function numberOf(text: string): number | null {
  if (!/^[+-]?\d+(\.\d+)?$/.test(text)) return null
  return Number(text)
}

export function parseHouseholdCsv(text: string, mayWriteGrid: (gridId: string) => boolean): ParseResult {
  const parsed = Papa.parse<string[]>(text.startsWith(BOM) ? text.slice(1) : text, { skipEmptyLines: false })
  const [header = [], ...data] = parsed.data
  const indexOf = new Map<HouseholdCsvColumn, number>()
  header.forEach((name, index) => {
    const trimmed = name.trim()
    const column = HOUSEHOLD_CSV_COLUMNS.find((c) => c.header === trimmed || c.key === trimmed)
    if (column && !indexOf.has(column.key)) indexOf.set(column.key, index)
  })
  const missingColumns = HOUSEHOLD_CSV_COLUMNS.filter((c) => c.required && !indexOf.has(c.key)).map(
    (c) => c.key,
  )
  if (missingColumns.length > 0) return { ok: false, missingColumns, rows: [] }

  const rows: ParsedRow[] = []
  data.forEach((values, index) => {
    if (values.every((value) => value.trim() === '')) return
    const cells: ParsedRow['cells'] = {}
    for (const [key, at] of indexOf) {
      const value = cellText(values[at])
      if (value !== '') cells[key] = value
    }
    rows.push(parseRow(index + 2, cells, mayWriteGrid))
  })
  return { ok: true, rows }
}

function parseRow(
  row: number,
  cells: ParsedRow['cells'],
  mayWriteGrid: (gridId: string) => boolean,
): ParsedRow {
  const errors: RowError[] = []
  const fail = (column: string, problem: RowProblem, message = '') =>
    errors.push({ column, problem, message })
  for (const column of HOUSEHOLD_CSV_COLUMNS) {
    if (column.required && cells[column.key] === undefined) fail(column.key, 'required')
  }
  const fields: Record<string, unknown> = {}
  for (const key of ['gridId', 'address', 'houseNumber', 'headName', 'headPhone', 'notes'] as const) {
    if (cells[key] !== undefined) fields[key] = cells[key]
  }
  if (cells.housing !== undefined) {
    const housing = HOUSING_LABELS[cells.housing]
    if (housing) fields['housing'] = housing
    else fail('housing', 'housing')
  }
  if (cells.memberCount !== undefined) {
    const count = numberOf(cells.memberCount)
    if (count === null) fail('memberCount', 'number')
    else fields['memberCount'] = count
  }
  if (cells.lat !== undefined || cells.lng !== undefined) {
    const lat = numberOf(cells.lat ?? '')
    const lng = numberOf(cells.lng ?? '')
    if (lat === null || lng === null)
      fail(cells.lat === undefined || lat === null ? 'lat' : 'lng', 'location')
    else fields['location'] = { lat, lng }
  }
  if (errors.length === 0) {
    const result = validateFields('household', fields, 'create')
    if (!result.ok) {
      const field = result.issue.field.split('.')[0] ?? ''
      const column = field === 'location' ? (result.issue.field.endsWith('lng') ? 'lng' : 'lat') : field
      fail(column, 'schema', result.issue.message)
    } else if (!mayWriteGrid(String(fields['gridId']))) {
      fail('gridId', 'grid')
    } else {
      return { row, fields: result.fields as Household, cells, errors }
    }
  }
  return { row, fields: null, cells, errors }
}
