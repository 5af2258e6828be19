/**
 * How often a household with members in a care group must be visited (走访频次), and which households are due.
 *
 * Invariants:
 * - Periods are calendar months and quarters in China Standard Time (UTC+8, no daylight saving), so a visit on the
 *   evening of the 31st counts for that month wherever the phone's clock zone is set.
 * - A household's period is the shortest one among its members' care tags (a monthly visit also covers a quarterly
 *   need). It is due when no visit to it falls in the current period; tags without a row here ask for no visits.
 * Pure: `now` is passed in.
 */
import type { CARE_TAGS } from '../schemas/records.ts'

export type CareTag = (typeof CARE_TAGS)[number]
export type VisitPeriod = 'month' | 'quarter'

/** 留守老人, 独居老人 and 留守儿童 monthly; 残疾人 quarterly. */
export const CARE_VISIT_PERIODS: Readonly<Partial<Record<CareTag, VisitPeriod>>> = Object.freeze({
  left_behind_elderly: 'month',
  living_alone_elderly: 'month',
  left_behind_children: 'month',
  disabled: 'quarter',
})

/** China Standard Time's offset from UTC (ms). */
export const CHINA_OFFSET_MS = 8 * 60 * 60 * 1000

const PERIOD_MONTHS: Record<VisitPeriod, number> = { month: 1, quarter: 3 }

/** The first ms of the calendar month or quarter (UTC+8) holding `at`. */
export function periodStart(period: VisitPeriod, at: number): number {
  const local = new Date(at + CHINA_OFFSET_MS)
  const months = PERIOD_MONTHS[period]
  const month = Math.floor(local.getUTCMonth() / months) * months
  return Date.UTC(local.getUTCFullYear(), month, 1) - CHINA_OFFSET_MS
}

/** The shortest visit period among these tags, or null when none asks for visits. */
export function visitPeriodOf(tags: readonly string[]): VisitPeriod | null {
  let best: VisitPeriod | null = null
  for (const tag of tags) {
    const period = CARE_VISIT_PERIODS[tag as CareTag]
    if (period && (best === null || PERIOD_MONTHS[period] < PERIOD_MONTHS[best])) best = period
  }
  return best
}

/** What the rule reads of a member (a person record's fields). */
export interface CareMember {
  householdId: string
  tags?: readonly string[] | null | undefined
}

/** What the rule reads of a visit (a visit record's fields). */
export interface CareVisit {
  targetKind: string
  targetId: string
  visitedAt: number
}

export interface DueVisit {
  householdId: string
  period: VisitPeriod
  /** The care tags (with a visit period) of the household's members, each once, in CARE_TAGS' order of rows. */
  tags: CareTag[]
  /** When the period began (ms). */
  since: number
}

/** The households due for a visit at `now`, in the order their first member was given. */
export function dueVisits(
  members: Iterable<CareMember>,
  visits: Iterable<CareVisit>,
  now: number,
): DueVisit[] {
  const tagsByHousehold = new Map<string, Set<CareTag>>()
  for (const member of members) {
    for (const tag of member.tags ?? []) {
      if (!CARE_VISIT_PERIODS[tag as CareTag]) continue
      let tags = tagsByHousehold.get(member.householdId)
      if (!tags) tagsByHousehold.set(member.householdId, (tags = new Set()))
      tags.add(tag as CareTag)
    }
  }
  const lastVisit = new Map<string, number>()
  for (const visit of visits) {
    if (visit.targetKind !== 'household') continue
    const last = lastVisit.get(visit.targetId)
    if (last === undefined || visit.visitedAt > last) lastVisit.set(visit.targetId, visit.visitedAt)
  }
  const order = Object.keys(CARE_VISIT_PERIODS)
  const due: DueVisit[] = []
  for (const [householdId, tagSet] of tagsByHousehold) {
    const tags = [...tagSet].sort((a, b) => order.indexOf(a) - order.indexOf(b))
    const period = visitPeriodOf(tags)
    if (!period) continue
    const since = periodStart(period, now)
    const last = lastVisit.get(householdId)
    if (last === undefined || last < since) due.push({ householdId, period, tags, since })
  }
  return due
}
