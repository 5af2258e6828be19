/**
 * Deadlines of the closed loop (处置时限), by urgency.
 *
 * Invariants:
 * - A deadline is set once, at dispatch (`deadlineAt` = dispatch time + the urgency's days, never more than `max`);
 *   a leader may pick an earlier one, never a later one than `max` days.
 * - Overdue is derived from the deadline and `now`, never stored: it only counts while the handler owes work
 *   (dispatched, in progress, sent back). Handled, verified, closed, rated, parked (挂账) and voided cases are not
 *   overdue, whatever their deadline said.
 * Pure: `now` is passed in. Days are 24 h periods (a village's "same day" is read as within 24 hours).
 */
import type { Incident } from '../schemas/records.ts'

export const DAY_MS = 24 * 60 * 60 * 1000

export type Urgency = Incident['urgency']

/** Days allowed per urgency, and the most any deadline may give (fractions of a day allowed). */
export interface DeadlineConfig {
  urgent: number
  normal: number
  complex: number
  max: number
}

/** Typical rural figures: urgent the same day (24 h), normal 3 days, complex 7, never more than 15. */
export const DEFAULT_DEADLINES: Readonly<DeadlineConfig> = Object.freeze({
  urgent: 1,
  normal: 3,
  complex: 7,
  max: 15,
})

/** The statuses in which the deadline runs: the handler still owes the work. */
export const DEADLINE_RUNNING_STATUSES: readonly Incident['status'][] = [
  'dispatched',
  'in_progress',
  'returned',
]

/** The deadline of an incident of this urgency dispatched at `dispatchedAt` (ms). */
export function deadlineFor(
  urgency: Urgency,
  dispatchedAt: number,
  config: DeadlineConfig = DEFAULT_DEADLINES,
): number {
  return dispatchedAt + Math.round(Math.min(config[urgency], config.max) * DAY_MS)
}

/** The latest deadline a dispatch at `dispatchedAt` may set. */
export function latestDeadline(dispatchedAt: number, config: DeadlineConfig = DEFAULT_DEADLINES): number {
  return dispatchedAt + Math.round(config.max * DAY_MS)
}

/** The part of an incident the deadline rules read. */
export interface DeadlineFields {
  status: Incident['status']
  deadlineAt?: number | null | undefined
}

/** Whether the incident is past its deadline at `now` while the handler still owes the work. Never stored. */
export function isOverdue(incident: DeadlineFields, now: number): boolean {
  return (
    DEADLINE_RUNNING_STATUSES.includes(incident.status) &&
    typeof incident.deadlineAt === 'number' &&
    now > incident.deadlineAt
  )
}

/** Ms left until the deadline (negative: overdue by that much); null when no deadline runs. */
export function timeLeft(incident: DeadlineFields, now: number): number | null {
  if (!DEADLINE_RUNNING_STATUSES.includes(incident.status) || typeof incident.deadlineAt !== 'number') {
    return null
  }
  return incident.deadlineAt - now
}

export class DeadlineConfigError extends Error {
  override name = 'DeadlineConfigError'
}

/**
 * Read a deadline configuration such as `urgent=1,normal=3,complex=7,max=15` (days; keys may be left out and keep
 * their defaults). Every value must be positive and none of the urgencies may exceed `max`.
 */
export function parseDeadlineConfig(
  text: string,
  defaults: DeadlineConfig = DEFAULT_DEADLINES,
): DeadlineConfig {
  const config: DeadlineConfig = { ...defaults }
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === '') continue
    const match = /^(urgent|normal|complex|max)\s*=\s*(\d+(?:\.\d+)?)$/.exec(part)
    if (!match) throw new DeadlineConfigError(`invalid deadline setting ${JSON.stringify(part)}`)
    const days = Number(match[2])
    if (!(days > 0)) throw new DeadlineConfigError(`deadline ${match[1]} must be more than 0 days`)
    config[match[1] as keyof DeadlineConfig] = days
  }
  for (const key of ['urgent', 'normal', 'complex'] as const) {
    if (config[key] > config.max) {
      throw new DeadlineConfigError(`deadline ${key}=${config[key]} is more than max=${config.max} days`)
    }
  }
  return config
}
