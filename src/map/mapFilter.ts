/**
 * The leader map's filters, applied to every in-scope point before clustering (so cluster counts are exact).
 * Empty lists mean "any" (except `kinds`, where null does). Overdue is derived from the deadline and the clock
 * passed in, never stored.
 */
import { isOverdue as incidentOverdue } from '#shared/domain/deadlines.ts'
import type { Incident } from '#shared/schemas/records.ts'
import type { MapKind, MapRecordPoint } from './mapPoints.ts'

export interface MapFilter {
  /** The kinds shown; null for all (unlike the lists below, an empty list here shows nothing). */
  kinds: MapKind[] | null
  /** Incident categories. */
  categories: string[]
  statuses: string[]
  /** Only overdue incidents. */
  overdueOnly: boolean
  grids: string[]
  /** Inclusive range on MapRecordPoint.at (ms); null for open-ended. */
  from: number | null
  to: number | null
}

export function emptyFilter(): MapFilter {
  return { kinds: null, categories: [], statuses: [], overdueOnly: false, grids: [], from: null, to: null }
}

/** Statuses after which an incident no longer counts as open (grid shading). */
export const NOT_OPEN_STATUSES: readonly string[] = ['closed', 'voided', 'rated']

export function isOpenIncident(point: MapRecordPoint): boolean {
  return point.kind === 'incident' && point.status !== null && !NOT_OPEN_STATUSES.includes(point.status)
}

/** The workflow's own rule (deadlines.ts): the deadline passed while the handler still owes the work. */
export function isOverdue(point: MapRecordPoint, now: number): boolean {
  if (point.kind !== 'incident' || point.status === null) return false
  return incidentOverdue({ status: point.status as Incident['status'], deadlineAt: point.deadlineAt }, now)
}

/** How many filter groups are set (the badge on the filter button). */
export function activeFilterCount(filter: MapFilter): number {
  return (
    (filter.kinds !== null ? 1 : 0) +
    (filter.categories.length > 0 ? 1 : 0) +
    (filter.statuses.length > 0 ? 1 : 0) +
    (filter.overdueOnly ? 1 : 0) +
    (filter.grids.length > 0 ? 1 : 0) +
    (filter.from !== null || filter.to !== null ? 1 : 0)
  )
}

/**
 * A predicate for the filter. A category, status or overdue filter keeps only incidents: households and places have
 * none of those, so they drop out of such a view.
 */
export function pointFilter(filter: MapFilter, now: number): (point: MapRecordPoint) => boolean {
  const kinds = filter.kinds !== null ? new Set<string>(filter.kinds) : null
  const categories = filter.categories.length > 0 ? new Set(filter.categories) : null
  const statuses = filter.statuses.length > 0 ? new Set(filter.statuses) : null
  const grids = filter.grids.length > 0 ? new Set(filter.grids) : null
  const from = filter.from ?? -Infinity
  const to = filter.to ?? Infinity
  const overdueOnly = filter.overdueOnly
  return (point) => {
    if (kinds && !kinds.has(point.kind)) return false
    if (grids && !grids.has(point.grid)) return false
    if (point.at < from || point.at > to) return false
    if (categories && (point.category === null || !categories.has(point.category))) return false
    if (statuses && (point.status === null || !statuses.has(point.status))) return false
    if (overdueOnly && !isOverdue(point, now)) return false
    return true
  }
}
