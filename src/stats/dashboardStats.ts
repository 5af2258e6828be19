/**
 * The leader dashboard's figures, from the device's own incident and visit records (a leader's device holds their
 * whole area, so this works offline). Pure: records, the range and `now` come in; charts only draw what this returns.
 *
 * Invariants:
 * - The date range selects incidents by `reportedAt` and visits by `visitedAt` (inclusive, ms; null = open-ended).
 * - Overdue is derived at `now` by the workflow's own rule (deadlines.ts isOverdue), never read from storage.
 * - Handling times are from `reportedAt` to `handledAt` (办结) and to `closedAt` (结案), over the incidents that have
 *   both; an on-the-spot fix (即办件) counts for "closed" from its report. Negative spans (skewed clocks) are dropped.
 * - Weeks are ISO weeks (Monday start) and months calendar months, both in China Standard Time (UTC+8).
 */
import { CHINA_OFFSET_MS } from '#shared/domain/careVisits.ts'
import { DAY_MS, isOverdue } from '#shared/domain/deadlines.ts'
import { INCIDENT_CATEGORIES, INCIDENT_STATUSES, type Incident } from '#shared/schemas/records.ts'

export interface StatsRecord {
  id: string
  fields: Record<string, unknown>
}

export interface DateRange {
  from: number | null
  to: number | null
}

export interface Count<K extends string = string> {
  key: K
  count: number
}

export interface OverdueItem {
  id: string
  gridId: string
  category: string
  description: string
  deadlineAt: number
  /** How long past the deadline at `now` (ms). */
  overdueMs: number
}

export interface AverageSpan {
  /** Mean ms, null without samples. */
  meanMs: number | null
  samples: number
}

/** Counts per grid (rows) and period (columns), every grid × period present, zeros included. */
export interface GridSeries {
  periods: string[]
  grids: string[]
  /** counts[gridIndex][periodIndex] */
  counts: number[][]
}

export interface DashboardStats {
  total: number
  open: number
  overdueCount: number
  byStatus: Count<Incident['status']>[]
  byCategory: Count<Incident['category']>[]
  byGridWeekly: GridSeries
  overdue: OverdueItem[]
  toHandled: AverageSpan
  toClosed: AverageSpan
  visitsByGridMonthly: GridSeries
  /** Visits per visitor (走访人) in the range, most first; visits recorded before visitors were kept are left out. */
  visitsByWorker: { name: string; count: number }[]
}

const NOT_OPEN: readonly string[] = ['closed', 'voided', 'rated']

const str = (value: unknown): string => (typeof value === 'string' ? value : '')
const num = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null
const inRange = (at: number, range: DateRange) =>
  (range.from === null || at >= range.from) && (range.to === null || at <= range.to)

/** The ISO week (`2026-W05`) of `at`, in UTC+8. */
export function isoWeekOf(at: number): string {
  const local = new Date(at + CHINA_OFFSET_MS)
  const day = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate())
  const weekday = (new Date(day).getUTCDay() + 6) % 7 // Monday 0
  const thursday = new Date(day - weekday * DAY_MS + 3 * DAY_MS)
  const year = thursday.getUTCFullYear()
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * DAY_MS)) + 1
  return `${year}-W${String(week).padStart(2, '0')}`
}

/** The calendar month (`2026-05`) of `at`, in UTC+8. */
export function monthOf(at: number): string {
  return new Date(at + CHINA_OFFSET_MS).toISOString().slice(0, 7)
}

function mean(values: number[]): AverageSpan {
  if (values.length === 0) return { meanMs: null, samples: 0 }
  return { meanMs: values.reduce((sum, value) => sum + value, 0) / values.length, samples: values.length }
}

/** Fill a grid × period table from (grid, period) pairs; grids and periods sorted. */
function gridSeries(pairs: Iterable<[string, string]>): GridSeries {
  const cells = new Map<string, number>()
  const grids = new Set<string>()
  const periods = new Set<string>()
  for (const [grid, period] of pairs) {
    grids.add(grid)
    periods.add(period)
    const key = `${grid}\u0000${period}`
    cells.set(key, (cells.get(key) ?? 0) + 1)
  }
  const gridList = [...grids].sort()
  const periodList = [...periods].sort()
  return {
    grids: gridList,
    periods: periodList,
    counts: gridList.map((grid) => periodList.map((period) => cells.get(`${grid}\u0000${period}`) ?? 0)),
  }
}

export function dashboardStats(
  incidentRecords: readonly StatsRecord[],
  visitRecords: readonly StatsRecord[],
  range: DateRange,
  now: number,
): DashboardStats {
  const incidents = incidentRecords.filter((record) => {
    const reportedAt = num(record.fields['reportedAt'])
    return reportedAt !== null && inRange(reportedAt, range)
  })
  const statusCounts = new Map<string, number>()
  const categoryCounts = new Map<string, number>()
  const weekly: [string, string][] = []
  const overdue: OverdueItem[] = []
  const toHandled: number[] = []
  const toClosed: number[] = []
  let open = 0
  for (const { id, fields } of incidents) {
    const status = str(fields['status'])
    const category = str(fields['category'])
    const gridId = str(fields['gridId'])
    const reportedAt = num(fields['reportedAt']) as number
    statusCounts.set(status, (statusCounts.get(status) ?? 0) + 1)
    categoryCounts.set(category, (categoryCounts.get(category) ?? 0) + 1)
    weekly.push([gridId, isoWeekOf(reportedAt)])
    if (!NOT_OPEN.includes(status)) open++
    const deadlineAt = num(fields['deadlineAt'])
    if (deadlineAt !== null && isOverdue({ status: status as Incident['status'], deadlineAt }, now)) {
      overdue.push({
        id,
        gridId,
        category,
        description: str(fields['description']),
        deadlineAt,
        overdueMs: now - deadlineAt,
      })
    }
    const handledAt = num(fields['handledAt'])
    if (handledAt !== null && handledAt >= reportedAt) toHandled.push(handledAt - reportedAt)
    const closedAt = num(fields['closedAt'])
    if (closedAt !== null && closedAt >= reportedAt) toClosed.push(closedAt - reportedAt)
  }
  overdue.sort((a, b) => b.overdueMs - a.overdueMs)

  const perWorker = new Map<string, { name: string; count: number }>()
  for (const { fields } of visitRecords) {
    const visitedAt = num(fields['visitedAt'])
    const visitorId = str(fields['visitorId'])
    if (visitedAt === null || !inRange(visitedAt, range) || !visitorId) continue
    const entry = perWorker.get(visitorId) ?? { name: str(fields['visitorName']) || visitorId, count: 0 }
    entry.count++
    perWorker.set(visitorId, entry)
  }
  const visits = visitRecords.flatMap((record): [string, string][] => {
    const visitedAt = num(record.fields['visitedAt'])
    return visitedAt !== null && inRange(visitedAt, range)
      ? [[str(record.fields['gridId']), monthOf(visitedAt)]]
      : []
  })

  return {
    total: incidents.length,
    open,
    overdueCount: overdue.length,
    byStatus: INCIDENT_STATUSES.map((key) => ({ key, count: statusCounts.get(key) ?? 0 })).filter(
      (entry) => entry.count > 0,
    ),
    byCategory: INCIDENT_CATEGORIES.map((key) => ({ key, count: categoryCounts.get(key) ?? 0 })).filter(
      (entry) => entry.count > 0,
    ),
    byGridWeekly: gridSeries(weekly),
    overdue,
    toHandled: mean(toHandled),
    toClosed: mean(toClosed),
    visitsByGridMonthly: gridSeries(visits),
    visitsByWorker: [...perWorker.values()].sort((a, b) => b.count - a.count || a.name.localeCompare(b.name)),
  }
}
