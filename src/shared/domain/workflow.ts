/**
 * The closed loop (闭环) of an incident as a pure state machine: one table of (from, action, to, roles), read by the
 * server, which judges every incident op against it, and by the app, which offers only the actions it allows.
 *
 * 上报 reported → 受理 accepted | 作废 voided → 派遣 dispatched (deadline starts) → 处置中 in_progress → 办结 handled
 * → 核查 verified | 退回 returned → 结案 closed → 评价 rated; 挂账 parked (and back to accepted); 即办件: created closed.
 *
 * Invariants (tested in tests/unit/workflow*.test.ts, by property over any sequence of actions by any roles):
 * - The status only moves along a row of TRANSITIONS, by a role that row names; start and handle only by the handler
 *   the incident is dispatched to. Every (from, to) pair has exactly one row, so the server can tell the action
 *   from the status change alone: a transition travels as an ordinary patch `{ status, ...step fields }`.
 * - A new incident is `reported`, or `closed` as an on-the-spot fix (即办件: `quickFix: true` with its `result`).
 * - Step fields (STEP_FIELDS: times, handler, deadline, result, reasons, rating, quickFix) are written only together
 *   with the step they belong to, which must write its required ones. Outside a step, only leaders and admins may
 *   correct a few of them (CORRECTIONS: extend a running deadline, reassign a handler who has not started, fix a
 *   reason text); everything else about a step is history.
 * - A handler (责任单位) only ever writes its own steps: never the report (description, category, place, …).
 * - Overdue is derived (deadlines.ts), never stored.
 * The server adds what needs its store: compare-and-set on the status stamp (the device saw the current status) and
 * that `handlerId` names a handler covering the incident's grid.
 */
import type { UserRole } from '../schemas/api.ts'
import type { Incident } from '../schemas/records.ts'
import {
  DEADLINE_RUNNING_STATUSES,
  DEFAULT_DEADLINES,
  deadlineFor,
  latestDeadline,
  type DeadlineConfig,
} from './deadlines.ts'

export type IncidentStatus = Incident['status']

export const WORKFLOW_ACTIONS = [
  'report',
  'quick_fix',
  'accept',
  'void',
  'dispatch',
  'start',
  'handle',
  'verify',
  'send_back',
  'close',
  'rate',
  'park',
  'unpark',
] as const
export type WorkflowAction = (typeof WORKFLOW_ACTIONS)[number]

/** The fields that belong to steps of the loop (all optional and nullable in the incident schema). */
export const STEP_FIELDS = [
  'acceptedAt',
  'voidedAt',
  'voidReason',
  'dispatchedAt',
  'handlerId',
  'deadlineAt',
  'startedAt',
  'handledAt',
  'result',
  'verifiedAt',
  'returnedAt',
  'returnReason',
  'closedAt',
  'ratedAt',
  'rating',
  'parkedAt',
  'parkedReason',
  'quickFix',
] as const
export type StepField = (typeof STEP_FIELDS)[number]
const STEP_FIELD_SET: ReadonlySet<string> = new Set(STEP_FIELDS)
export const isStepField = (field: string): field is StepField => STEP_FIELD_SET.has(field)

export interface Transition {
  /** null: the incident is being created. */
  from: IncidentStatus | null
  action: WorkflowAction
  to: IncidentStatus
  roles: readonly UserRole[]
  /** Step fields the patch must write (non-null). */
  requires: readonly StepField[]
  /** Step fields the patch may also write. */
  optional: readonly StepField[]
  /** Only the handler named in `handlerId` may take this step. */
  assignedHandlerOnly: boolean
}

const LEADERS: readonly UserRole[] = ['leader', 'admin']
/** 上报 and 核查: the grid's worker (scope makes it their grid); leaders and admins too. */
const FIELD_ROLES: readonly UserRole[] = ['worker', 'leader', 'admin']
const HANDLERS: readonly UserRole[] = ['handler']
const DISPATCH_FIELDS: readonly StepField[] = ['dispatchedAt', 'handlerId', 'deadlineAt']

const row = (
  from: IncidentStatus | null,
  action: WorkflowAction,
  to: IncidentStatus,
  roles: readonly UserRole[],
  requires: readonly StepField[] = [],
  optional: readonly StepField[] = [],
): Transition => ({ from, action, to, roles, requires, optional, assignedHandlerOnly: roles === HANDLERS })

/** The whole loop. Admins may do what leaders may. */
export const TRANSITIONS: readonly Transition[] = [
  row(null, 'report', 'reported', FIELD_ROLES),
  row(null, 'quick_fix', 'closed', FIELD_ROLES, ['quickFix', 'result', 'closedAt'], ['handledAt']),
  row('reported', 'accept', 'accepted', LEADERS, ['acceptedAt']),
  row('reported', 'void', 'voided', LEADERS, ['voidedAt'], ['voidReason']),
  row('accepted', 'void', 'voided', LEADERS, ['voidedAt'], ['voidReason']),
  row('accepted', 'dispatch', 'dispatched', LEADERS, DISPATCH_FIELDS),
  // Sent back (退回): the leader may dispatch it again (another handler, a new deadline) …
  row('returned', 'dispatch', 'dispatched', LEADERS, DISPATCH_FIELDS),
  row('dispatched', 'start', 'in_progress', HANDLERS, ['startedAt']),
  // … or the same handler takes it up again.
  row('returned', 'start', 'in_progress', HANDLERS, ['startedAt']),
  row('dispatched', 'handle', 'handled', HANDLERS, ['handledAt', 'result']),
  row('in_progress', 'handle', 'handled', HANDLERS, ['handledAt', 'result']),
  row('handled', 'verify', 'verified', FIELD_ROLES, ['verifiedAt']),
  row('handled', 'send_back', 'returned', FIELD_ROLES, ['returnedAt', 'returnReason']),
  row('verified', 'close', 'closed', LEADERS, ['closedAt']),
  row('closed', 'rate', 'rated', LEADERS, ['ratedAt', 'rating']),
  row('accepted', 'park', 'parked', LEADERS, ['parkedAt', 'parkedReason']),
  row('dispatched', 'park', 'parked', LEADERS, ['parkedAt', 'parkedReason']),
  row('in_progress', 'park', 'parked', LEADERS, ['parkedAt', 'parkedReason']),
  row('returned', 'park', 'parked', LEADERS, ['parkedAt', 'parkedReason']),
  // Unparked cases go back to be dispatched again (with a new deadline).
  row('parked', 'unpark', 'accepted', LEADERS),
]

/** Statuses from which no step leads on. */
export const FINAL_STATUSES: readonly IncidentStatus[] = ['voided', 'rated']

/**
 * Step fields a leader or admin may correct outside a step, and in which statuses. Anything else about a step is
 * history: it changes only with its step.
 */
export const CORRECTIONS: Readonly<Partial<Record<StepField, readonly IncidentStatus[]>>> = {
  /** 延期: a running deadline, still within `max` days of the dispatch. */
  deadlineAt: DEADLINE_RUNNING_STATUSES,
  /** 改派: before the handler started. */
  handlerId: ['dispatched'],
  voidReason: ['voided'],
  returnReason: ['returned'],
  parkedReason: ['parked'],
}

/** Chinese names for reasons the server sends (the app shows its own i18n labels). */
export const STATUS_NAMES: Record<IncidentStatus, string> = {
  reported: '已上报',
  accepted: '已受理',
  voided: '已作废',
  dispatched: '已派遣',
  in_progress: '处置中',
  handled: '已办结',
  verified: '已核查',
  returned: '已退回',
  closed: '已结案',
  rated: '已评价',
  parked: '挂账',
}
export const ACTION_NAMES: Record<WorkflowAction, string> = {
  report: '上报',
  quick_fix: '即办',
  accept: '受理',
  void: '作废',
  dispatch: '派遣',
  start: '开始处置',
  handle: '办结',
  verify: '核查通过',
  send_back: '退回',
  close: '结案',
  rate: '评价',
  park: '挂账',
  unpark: '取消挂账',
}
export const STEP_FIELD_NAMES: Record<StepField, string> = {
  acceptedAt: '受理时间',
  voidedAt: '作废时间',
  voidReason: '作废原因',
  dispatchedAt: '派遣时间',
  handlerId: '责任单位',
  deadlineAt: '处置时限',
  startedAt: '开始处置时间',
  handledAt: '办结时间',
  result: '处置结果',
  verifiedAt: '核查时间',
  returnedAt: '退回时间',
  returnReason: '退回原因',
  closedAt: '结案时间',
  ratedAt: '评价时间',
  rating: '满意度评价',
  parkedAt: '挂账时间',
  parkedReason: '挂账原因',
  quickFix: '即办件',
}
const ROLE_NAMES: Record<UserRole, string> = {
  worker: '网格员',
  leader: '网格长',
  handler: '责任单位',
  admin: '管理员',
}

/** Who is acting. `id` decides whether a handler is the one the incident is dispatched to. */
export interface Actor {
  id: string
  role: UserRole
}

/** The part of an incident the workflow reads. */
export interface WorkflowIncident {
  status: IncidentStatus
  handlerId?: string | null | undefined
  urgency?: Incident['urgency'] | undefined
  dispatchedAt?: number | null | undefined
}

/** The row for a status change, if the loop has one (create: from = null). */
export function transitionFor(from: IncidentStatus | null, to: IncidentStatus): Transition | undefined {
  return TRANSITIONS.find((t) => t.from === from && t.to === to)
}

/** The row if `role` may move an incident from `from` to `to`, else null. Handler rows also need actionsFor's id check. */
export function transition(
  from: IncidentStatus | null,
  to: IncidentStatus,
  role: UserRole,
): Transition | null {
  const t = transitionFor(from, to)
  return t && t.roles.includes(role) ? t : null
}

/** Whether `actor` may take step `t` on `incident` (its role, and for handler steps, being the assigned handler). */
function mayTake(t: Transition, incident: WorkflowIncident | null, actor: Actor): boolean {
  if (!t.roles.includes(actor.role)) return false
  return !t.assignedHandlerOnly || (incident?.handlerId ?? null) === actor.id
}

/** The steps `actor` may take on `incident` now (null: a new incident), in table order: what the app offers. */
export function actionsFor(incident: WorkflowIncident | null, actor: Actor): Transition[] {
  const from = incident?.status ?? null
  return TRANSITIONS.filter((t) => t.from === from && mayTake(t, incident, actor))
}

/** What the user gives for a step; `now` and the deadline rules fill in the rest. */
export interface StepInput {
  /** dispatch: the handler user's id. */
  handlerId?: string
  /** dispatch: defaults to the urgency's deadline (deadlines.ts). */
  deadlineAt?: number
  /** handle, quick_fix: what was done. */
  result?: string
  /** void, send_back, park: why. */
  reason?: string
  /** rate: 1–5. */
  rating?: number
}

export class WorkflowError extends Error {
  override name = 'WorkflowError'
}

/**
 * The patch that takes step `action` on `incident` at `now` (device time): `{ status, ...step fields }`, to be saved as
 * an ordinary edit (the device names the status stamp it saw, which the server compares). For quick_fix, the patch
 * holds the step fields to add to the new incident's fields. Throws WorkflowError when the step is not open to
 * `actor` or an input it requires is missing; the server judges the patch again anyway.
 */
export function stepPatch(
  incident: WorkflowIncident | null,
  action: WorkflowAction,
  actor: Actor,
  input: StepInput,
  now: number,
  config: DeadlineConfig = DEFAULT_DEADLINES,
): Record<string, unknown> {
  const t = actionsFor(incident, actor).find((candidate) => candidate.action === action)
  if (!t) {
    const from = incident ? `「${STATUS_NAMES[incident.status]}」的` : '新'
    throw new WorkflowError(`${ROLE_NAMES[actor.role]}不能对${from}事件执行「${ACTION_NAMES[action]}」`)
  }
  const need = <T>(value: T | undefined, field: string): T => {
    if (value === undefined || isBlank(value))
      throw new WorkflowError(`「${ACTION_NAMES[action]}」需要${field}`)
    return value
  }
  const status = { status: t.to }
  switch (action) {
    case 'report':
      return status
    case 'quick_fix':
      return {
        ...status,
        quickFix: true,
        result: need(input.result, '处置结果'),
        handledAt: now,
        closedAt: now,
      }
    case 'accept':
      return { ...status, acceptedAt: now }
    case 'void':
      return { ...status, voidedAt: now, voidReason: isBlank(input.reason) ? null : (input.reason ?? null) }
    case 'dispatch': {
      const deadline = input.deadlineAt ?? deadlineFor(need(incident?.urgency, '紧急程度'), now, config)
      const problem = deadlineProblem(now, deadline, config)
      if (problem) throw new WorkflowError(problem)
      return {
        ...status,
        dispatchedAt: now,
        handlerId: need(input.handlerId, '责任单位'),
        deadlineAt: deadline,
      }
    }
    case 'start':
      return { ...status, startedAt: now }
    case 'handle':
      return { ...status, handledAt: now, result: need(input.result, '处置结果') }
    case 'verify':
      return { ...status, verifiedAt: now }
    case 'send_back':
      return { ...status, returnedAt: now, returnReason: need(input.reason, '退回原因') }
    case 'close':
      return { ...status, closedAt: now }
    case 'rate':
      if (
        input.rating === undefined ||
        !Number.isInteger(input.rating) ||
        input.rating < 1 ||
        input.rating > 5
      ) {
        throw new WorkflowError('评价应为1–5分')
      }
      return { ...status, ratedAt: now, rating: input.rating }
    case 'park':
      return { ...status, parkedAt: now, parkedReason: need(input.reason, '挂账原因') }
    case 'unpark':
      return status
  }
}

export type WorkflowRefusalCode = 'illegal_transition' | 'workflow' | 'forbidden'

export type WorkflowVerdict =
  | {
      ok: true
      /** The step the patch takes, or null when it leaves the status as it is. */
      transition: Transition | null
    }
  | { ok: false; code: WorkflowRefusalCode; reason: string; field: string }

const refuse = (code: WorkflowRefusalCode, reason: string, field: string): WorkflowVerdict => ({
  ok: false,
  code,
  reason,
  field,
})

const stepName = (field: StepField) => `「${STEP_FIELD_NAMES[field]}」`

/**
 * Judge one incident patch (a create when `current` is null) by `actor`: the status change must be a row of the
 * loop open to the actor, and the step fields must be those of that step (or a leader's correction). Pure; the
 * server adds the compare-and-set on the status stamp and checks that a handlerId names a handler in scope.
 */
export function judgeIncidentPatch(
  current: WorkflowIncident | null,
  patch: Readonly<Record<string, unknown>>,
  actor: Actor,
  config: DeadlineConfig = DEFAULT_DEADLINES,
): WorkflowVerdict {
  const who = ROLE_NAMES[actor.role]
  const target = patch.status as IncidentStatus | undefined
  let step: Transition | null = null
  if (current === null) {
    step = target === undefined ? null : (transitionFor(null, target) ?? null)
    if (!step) {
      return refuse(
        'illegal_transition',
        `新事件只能以「${STATUS_NAMES.reported}」上报，或作为即办件直接「${STATUS_NAMES.closed}」`,
        'status',
      )
    }
    if (!mayTake(step, null, actor)) {
      return refuse('illegal_transition', `${who}不能${ACTION_NAMES[step.action]}事件`, 'status')
    }
  } else if (target !== undefined && target !== current.status) {
    const t = transitionFor(current.status, target)
    if (!t || !t.roles.includes(actor.role)) {
      return refuse(
        'illegal_transition',
        `${who}不能将事件从「${STATUS_NAMES[current.status]}」改为「${STATUS_NAMES[target]}」`,
        'status',
      )
    }
    if (!mayTake(t, current, actor)) {
      return refuse('illegal_transition', `这件事件没有派给你，不能「${ACTION_NAMES[t.action]}」`, 'status')
    }
    step = t
  }

  if (actor.role === 'handler') {
    const other = Object.keys(patch).find((field) => field !== 'status' && !isStepField(field))
    if (!step || other !== undefined) {
      return refuse('forbidden', `${who}只能办理派给自己的事件，不能修改事件内容`, other ?? 'status')
    }
  }

  // On a create, a step field given as null is simply absent (a form may send every field of the schema).
  const written = Object.keys(patch)
    .filter(isStepField)
    .filter((field) => current !== null || patch[field] !== null)
  if (step) {
    const allowed = new Set<string>([...step.requires, ...step.optional])
    const stray = written.find((field) => !allowed.has(field))
    if (stray !== undefined) {
      return refuse('workflow', `${stepName(stray)}不能在「${ACTION_NAMES[step.action]}」时填写`, stray)
    }
    const missing = step.requires.find((field) => isBlank(patch[field]))
    if (missing !== undefined) {
      return refuse('workflow', `「${ACTION_NAMES[step.action]}」需要填写${stepName(missing)}`, missing)
    }
    if (step.action === 'quick_fix' && patch.quickFix !== true) {
      return refuse('workflow', `即办件的${stepName('quickFix')}标记应为是`, 'quickFix')
    }
    if (step.requires.includes('deadlineAt')) {
      const problem = deadlineProblem(patch.dispatchedAt, patch.deadlineAt, config)
      if (problem) return refuse('workflow', problem, 'deadlineAt')
    }
    return { ok: true, transition: step }
  }

  // No step: a correction by a leader or admin, or an edit of the report's own fields.
  for (const field of written) {
    const statuses = CORRECTIONS[field]
    if (!LEADERS.includes(actor.role) || !statuses) {
      return refuse('workflow', `${stepName(field)}只能随流程步骤填写`, field)
    }
    const status = current?.status ?? 'reported'
    if (!statuses.includes(status)) {
      return refuse('workflow', `事件「${STATUS_NAMES[status]}」时不能修改${stepName(field)}`, field)
    }
    if (
      patch[field] === null &&
      field !== 'voidReason' &&
      field !== 'returnReason' &&
      field !== 'parkedReason'
    ) {
      return refuse('workflow', `${stepName(field)}不能清空`, field)
    }
    if (field === 'deadlineAt') {
      const problem = deadlineProblem(current?.dispatchedAt, patch.deadlineAt, config)
      if (problem) return refuse('workflow', problem, 'deadlineAt')
    }
  }
  return { ok: true, transition: null }
}

/** Absent, null or only spaces: a required step field that says nothing. */
const isBlank = (value: unknown): boolean =>
  value === undefined || value === null || (typeof value === 'string' && value.trim() === '')

/** Why a deadline does not fit a dispatch at `dispatchedAt` (after it, at most `max` days later), or null. */
function deadlineProblem(dispatchedAt: unknown, deadlineAt: unknown, config: DeadlineConfig): string | null {
  if (typeof dispatchedAt !== 'number' || typeof deadlineAt !== 'number') return '处置时限无效'
  if (deadlineAt <= dispatchedAt) return '处置时限应晚于派遣时间'
  if (deadlineAt > latestDeadline(dispatchedAt, config)) return `处置时限最长为派遣后 ${config.max} 天`
  return null
}
