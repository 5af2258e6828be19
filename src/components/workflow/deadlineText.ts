import { timeLeft } from '#shared/domain/deadlines.ts'
import type { WorkflowIncident } from '#shared/domain/workflow.ts'
import { INCIDENT_STATUSES, URGENCIES } from '#shared/schemas/records.ts'

type Translate = (key: string, named?: Record<string, unknown>) => string

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** A span such as "2 天 3 小时", "5 小时 20 分钟" or "12 分钟" (the absolute value; at least 1 minute). */
export function formatDuration(ms: number, t: Translate): string {
  const span = Math.max(Math.abs(ms), MINUTE)
  const days = Math.floor(span / DAY)
  const hours = Math.floor((span % DAY) / HOUR)
  const minutes = Math.floor((span % HOUR) / MINUTE)
  if (days > 0)
    return [t('loop.days', { n: days }), hours > 0 ? t('loop.hours', { n: hours }) : ''].join(' ').trim()
  if (hours > 0)
    return [t('loop.hours', { n: hours }), minutes > 0 ? t('loop.minutes', { n: minutes }) : '']
      .join(' ')
      .trim()
  return t('loop.minutes', { n: minutes })
}

/** The workflow's view of an incident as the device holds it (unknown values read as absent). */
export function workflowIncidentOf(fields: Readonly<Record<string, unknown>>): WorkflowIncident {
  const status = (INCIDENT_STATUSES as readonly unknown[]).includes(fields.status)
    ? (fields.status as WorkflowIncident['status'])
    : 'reported'
  return {
    status,
    handlerId: typeof fields.handlerId === 'string' ? fields.handlerId : null,
    urgency: (URGENCIES as readonly unknown[]).includes(fields.urgency)
      ? (fields.urgency as WorkflowIncident['urgency'])
      : undefined,
    dispatchedAt: typeof fields.dispatchedAt === 'number' ? fields.dispatchedAt : null,
  }
}

export interface DeadlineView {
  deadlineAt: number
  /** Ms left (negative: overdue by that much). */
  left: number
  overdue: boolean
}

/** The running deadline of an incident at `now`, or null when none runs (derived, never stored). */
export function deadlineView(fields: Readonly<Record<string, unknown>>, now: number): DeadlineView | null {
  const deadlineAt = typeof fields.deadlineAt === 'number' ? fields.deadlineAt : null
  const left = timeLeft({ status: workflowIncidentOf(fields).status, deadlineAt }, now)
  if (left === null || deadlineAt === null) return null
  return { deadlineAt, left, overdue: left < 0 }
}
