/**
 * Any sequence of attempts by any users of any role (the steps the app offers them, steps forged for a role that
 * may not take them, and arbitrary patches of status and step fields) goes through the server's own pipeline (the
 * zod patch schema, then judgeIncidentPatch), and the incident never reaches a state the rules of DOMAIN.md forbid.
 * The oracle below states those rules directly (who may move which status where, what each state must hold); it
 * does not read the transition table.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { validateFields } from '#shared/schemas/records.ts'
import { DAY_MS } from '#shared/domain/deadlines.ts'
import {
  STEP_FIELDS,
  TRANSITIONS,
  actionsFor,
  isStepField,
  judgeIncidentPatch,
  stepPatch,
  type Actor,
  type IncidentStatus,
  type StepInput,
  type WorkflowAction,
  type WorkflowIncident,
} from '#shared/domain/workflow.ts'
import { INCIDENT_STATUSES } from '#shared/schemas/records.ts'

const T = 1_750_000_000_000
const ACTORS: readonly Actor[] = [
  { id: 'worker-1', role: 'worker' },
  { id: 'worker-2', role: 'worker' },
  { id: 'leader-1', role: 'leader' },
  { id: 'admin-1', role: 'admin' },
  { id: 'handler-1', role: 'handler' },
  { id: 'handler-2', role: 'handler' },
]
const REPORT = {
  gridId: '330523102001001',
  category: 'environment',
  description: '溪边有人倾倒建筑垃圾',
  urgency: 'urgent',
  reportedAt: T,
}

type Mode = 'offered' | 'forged' | 'tampered' | 'raw'
interface Attempt {
  actor: number
  mode: Mode
  pick: number
  /** tampered: which field to leave out (if any). */
  drop: number
  /** raw: the status written (undefined: none). */
  status: IncidentStatus | undefined
  /** raw: step fields (and a report field) with arbitrary values. */
  fields: Record<string, unknown>
  input: StepInput
  /** dispatch: the deadline the leader picks, after `at` (absent: the urgency's default). */
  deadlineIn?: number | undefined
  at: number
}

/** The step input of an attempt, with its picked deadline (if any) counted from the attempt's time. */
const inputAt = (a: Attempt): StepInput =>
  a.deadlineIn === undefined ? a.input : { ...a.input, deadlineAt: a.at + a.deadlineIn }

const time = fc.integer({ min: T - 30 * DAY_MS, max: T + 30 * DAY_MS })
const stepValue = fc.oneof(
  time,
  fc.constantFrom(null, '', '   ', '已修复', 'handler-1', 'handler-2', true, true, false, 0, 3, 6),
)
const attempt: fc.Arbitrary<Attempt> = fc.record({
  actor: fc.nat({ max: ACTORS.length - 1 }),
  mode: fc.constantFrom<Mode>('offered', 'offered', 'offered', 'forged', 'tampered', 'tampered', 'raw'),
  pick: fc.nat({ max: 1000 }),
  drop: fc.nat({ max: 1000 }),
  status: fc.option(fc.constantFrom(...INCIDENT_STATUSES), { nil: undefined, freq: 2 }),
  fields: fc.dictionary(fc.constantFrom<string>(...STEP_FIELDS, 'description'), stepValue, { maxKeys: 4 }),
  // Mostly what a user would give, sometimes not (blank, out of range, a handler that is no handler).
  input: fc.record({
    handlerId: fc.constantFrom('handler-1', 'handler-1', 'handler-2', 'worker-1'),
    result: fc.constantFrom('已清理完毕', '已清理完毕', '已清理完毕', '', '  '),
    reason: fc.constantFrom('材料不全', '材料不全', ''),
    rating: fc.constantFrom(1, 3, 5, 5, 0, 6, 2.5),
  }),
  deadlineIn: fc.option(fc.integer({ min: -DAY_MS, max: 20 * DAY_MS }), { nil: undefined, freq: 2 }),
  at: time,
})

const [WORKER, , LEADER, , HANDLER] = ACTORS as [Actor, Actor, Actor, Actor, Actor, Actor]
/** reported → accepted → dispatched → in progress → handled → returned → in progress → handled → verified → closed. */
const HAPPY_PATH: readonly (readonly [WorkflowAction, Actor])[] = [
  ['report', WORKER],
  ['accept', LEADER],
  ['dispatch', LEADER],
  ['start', HANDLER],
  ['handle', HANDLER],
  ['send_back', WORKER],
  ['start', HANDLER],
  ['handle', HANDLER],
  ['verify', WORKER],
  ['close', LEADER],
]

const ALL_ACTIONS = [...new Set(TRANSITIONS.map((t) => t.action))]
const nonBlank = (v: unknown) => typeof v === 'string' && v.trim() !== ''

/** Build the patch of one attempt on `current` (null: the incident does not exist yet). */
function patchOf(
  current: WorkflowIncident | null,
  a: Attempt,
): { actor: Actor; patch: Record<string, unknown> } | null {
  const actor = ACTORS[a.actor]!
  const base = current === null ? REPORT : {}
  if (a.mode === 'raw') {
    return { actor, patch: { ...base, ...a.fields, ...(a.status === undefined ? {} : { status: a.status }) } }
  }
  if (a.mode === 'offered') {
    // A step someone is offered (so that sequences get deep into the loop), taken by that someone.
    const offered = ACTORS.flatMap((someone) =>
      actionsFor(current, someone).map((step) => ({ someone, step })),
    )
    if (offered.length === 0) return null
    const { someone, step } = offered[a.pick % offered.length]!
    try {
      return {
        actor: someone,
        patch: { ...base, ...stepPatch(current, step.action, someone, a.input, a.at) },
      }
    } catch {
      return null // an input the step needs is missing or invalid: the app would not send it
    }
  }
  if (a.mode === 'tampered') {
    // A step someone is offered, taken by that someone, with a field left out (half the time) and the attempt's
    // arbitrary fields written over it.
    const all = ACTORS.flatMap((someone) => actionsFor(current, someone).map((step) => ({ someone, step })))
    const chosen = all[a.pick % Math.max(1, all.length)]
    if (!chosen) return null
    let patch: Record<string, unknown>
    try {
      patch = stepPatch(current, chosen.step.action, chosen.someone, inputAt(a), a.at)
    } catch {
      return null
    }
    const keys = Object.keys(patch).filter((k) => k !== 'status')
    const drop = a.drop % 2 === 0 ? keys[Math.floor(a.drop / 2) % Math.max(1, keys.length)] : undefined
    const kept = Object.fromEntries(Object.entries(patch).filter(([k]) => k !== drop))
    return { actor: chosen.someone, patch: { ...base, ...kept, ...a.fields } }
  }
  // forged: a step's patch, built as if by whoever may take it, sent by this actor.
  const action = ALL_ACTIONS[a.pick % ALL_ACTIONS.length]!
  for (const someone of ACTORS) {
    try {
      const patch = stepPatch(
        current,
        action,
        { ...someone, id: current?.handlerId ?? someone.id },
        inputAt(a),
        a.at,
      )
      return { actor, patch: { ...base, ...patch } }
    } catch {
      // not open to this one either
    }
  }
  return null
}

/** The rules, stated directly: a status change `from → to` by `actor` on an incident held by `handlerId`. */
function mayMove(from: IncidentStatus, to: IncidentStatus, actor: Actor, handlerId: unknown): boolean {
  const lead = actor.role === 'leader' || actor.role === 'admin'
  switch (to) {
    case 'accepted':
      return lead && (from === 'reported' || from === 'parked')
    case 'voided':
      return lead && (from === 'reported' || from === 'accepted')
    case 'dispatched':
      return lead && (from === 'accepted' || from === 'returned')
    case 'in_progress':
      return (
        actor.role === 'handler' && handlerId === actor.id && (from === 'dispatched' || from === 'returned')
      )
    case 'handled':
      return (
        actor.role === 'handler' &&
        handlerId === actor.id &&
        (from === 'dispatched' || from === 'in_progress')
      )
    case 'verified':
    case 'returned':
      return actor.role !== 'handler' && from === 'handled'
    case 'closed':
      return lead && from === 'verified'
    case 'rated':
      return lead && from === 'closed'
    case 'parked':
      return lead && ['accepted', 'dispatched', 'in_progress', 'returned'].includes(from)
    case 'reported':
      return false
  }
}

/** What every state must hold. */
function stateProblems(f: Record<string, unknown>, createdQuickFix: boolean): string[] {
  const problems: string[] = []
  const status = f.status as IncidentStatus
  const dispatchedStates: IncidentStatus[] = ['dispatched', 'in_progress', 'handled', 'verified', 'returned']
  const afterDispatch =
    dispatchedStates.includes(status) || ((status === 'closed' || status === 'rated') && !createdQuickFix)
  if (afterDispatch) {
    if (typeof f.handlerId !== 'string') problems.push('no handler')
    const { dispatchedAt, deadlineAt } = f
    if (typeof dispatchedAt !== 'number' || typeof deadlineAt !== 'number') problems.push('no deadline')
    else if (deadlineAt <= dispatchedAt || deadlineAt > dispatchedAt + 15 * DAY_MS)
      problems.push('bad deadline')
  }
  if (['handled', 'verified', 'closed', 'rated'].includes(status) && !nonBlank(f.result))
    problems.push('no result')
  if (
    ['verified', 'closed', 'rated'].includes(status) &&
    !createdQuickFix &&
    typeof f.verifiedAt !== 'number'
  ) {
    problems.push('closed unverified')
  }
  if (
    status === 'rated' &&
    !(Number.isInteger(f.rating) && (f.rating as number) >= 1 && (f.rating as number) <= 5)
  ) {
    problems.push('bad rating')
  }
  if ((f.quickFix === true) !== createdQuickFix) problems.push('quickFix changed after creation')
  return problems
}

describe('the closed loop under any sequence of attempts', () => {
  it('never reaches a state the rules forbid', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: HAPPY_PATH.length }),
        fc.array(attempt, { minLength: 20, maxLength: 60 }),
        (depth, attempts) => {
          // Start somewhere along the loop, so that every state meets the random attempts.
          let fields = null as Record<string, unknown> | null
          for (const [action, actor] of HAPPY_PATH.slice(0, depth)) {
            const current = fields as unknown as WorkflowIncident | null
            const patch = stepPatch(
              current,
              action,
              actor,
              { handlerId: 'handler-1', result: '已处理', reason: '材料不全' },
              T,
            )
            expect(judgeIncidentPatch(current, patch, actor).ok).toBe(true)
            fields = { ...REPORT, ...fields, ...patch }
          }
          let createdQuickFix = false
          for (const a of attempts) {
            const current: WorkflowIncident | null = fields && {
              status: fields.status as IncidentStatus,
              handlerId: fields.handlerId as string | null | undefined,
              urgency: fields.urgency as WorkflowIncident['urgency'],
              dispatchedAt: fields.dispatchedAt as number | null | undefined,
            }
            const attempted = patchOf(current, a)
            if (!attempted) continue
            const { actor, patch } = attempted
            // The server's pipeline: the schema (whole record on create, patch after), then the workflow.
            if (!validateFields('incident', patch, fields ? 'patch' : 'create').ok) continue
            const verdict = judgeIncidentPatch(current, patch, actor)
            if (a.mode === 'offered') {
              // What the app offers is what the server accepts.
              expect(verdict, JSON.stringify({ current, patch, actor })).toMatchObject({ ok: true })
            }
            if (!verdict.ok) continue
            if (fields === null) {
              expect(['reported', 'closed']).toContain(patch.status)
              expect(actor.role).not.toBe('handler')
              createdQuickFix = patch.status === 'closed'
              if (createdQuickFix) expect(patch.quickFix).toBe(true)
              fields = { ...patch }
            } else {
              const from = fields.status as IncidentStatus
              const to = (patch.status as IncidentStatus | undefined) ?? from
              if (to !== from) {
                expect(mayMove(from, to, actor, fields.handlerId), `${from}→${to} by ${actor.id}`).toBe(true)
              } else {
                // Without a step, only leaders and admins touch step fields, and handlers nothing at all.
                expect(actor.role).not.toBe('handler')
                if (actor.role === 'worker') expect(Object.keys(patch).filter(isStepField)).toEqual([])
              }
              if (actor.role === 'handler') {
                expect(Object.keys(patch).every((k) => k === 'status' || isStepField(k))).toBe(true)
              }
              fields = { ...fields, ...patch }
            }
            expect(stateProblems(fields, createdQuickFix), JSON.stringify(fields)).toEqual([])
          }
        },
      ),
      { numRuns: 500 },
    )
  })

  it('reaches every status by the steps the app offers, each accepted by the server (exhaustive)', () => {
    const input = { handlerId: 'handler-1', result: '已处理', reason: '原因', rating: 5 }
    const seen = new Set<string>()
    const queue: (Record<string, unknown> | null)[] = [null]
    const reached = new Set<IncidentStatus>()
    while (queue.length > 0) {
      const fields = queue.shift()!
      const current = fields as unknown as WorkflowIncident | null
      for (const actor of ACTORS) {
        for (const step of actionsFor(current, actor)) {
          const patch = stepPatch(current, step.action, actor, input, T)
          expect(judgeIncidentPatch(current, patch, actor)).toEqual({ ok: true, transition: step })
          const next: Record<string, unknown> = { ...REPORT, ...fields, ...patch }
          reached.add(next.status as IncidentStatus)
          const key = `${String(next.status)}|${String(next.handlerId)}|${String(next.quickFix)}`
          if (!seen.has(key)) {
            seen.add(key)
            queue.push(next)
          }
        }
      }
    }
    expect([...reached].sort()).toEqual([...INCIDENT_STATUSES].sort())
  })
})
