/**
 * The closed loop, row by row: every row of the table taken by the roles it names and refused to the others, the
 * step fields each step must and may write, leaders' corrections, and deadlines and overdue.
 */
import { describe, expect, it } from 'vitest'
import { USER_ROLES, type UserRole } from '#shared/schemas/api.ts'
import { INCIDENT_STATUSES } from '#shared/schemas/records.ts'
import {
  DAY_MS,
  DEFAULT_DEADLINES,
  DeadlineConfigError,
  deadlineFor,
  isOverdue,
  parseDeadlineConfig,
  timeLeft,
} from '#shared/domain/deadlines.ts'
import {
  TRANSITIONS,
  WorkflowError,
  actionsFor,
  judgeIncidentPatch,
  stepPatch,
  transition,
  transitionFor,
  type Actor,
  type IncidentStatus,
  type WorkflowIncident,
} from '#shared/domain/workflow.ts'

const NOW = 1_750_000_000_000
const ACTORS: Record<UserRole, Actor> = {
  worker: { id: 'u-worker', role: 'worker' },
  leader: { id: 'u-leader', role: 'leader' },
  handler: { id: 'u-handler', role: 'handler' },
  admin: { id: 'u-admin', role: 'admin' },
}
const OTHER_HANDLER: Actor = { id: 'u-handler-2', role: 'handler' }

/** The loop as DOMAIN.md states it, written out by hand: from → to: roles. */
const EXPECTED: Record<string, readonly UserRole[]> = {
  'new>reported': ['worker', 'leader', 'admin'],
  'new>closed': ['worker', 'leader', 'admin'],
  'reported>accepted': ['leader', 'admin'],
  'reported>voided': ['leader', 'admin'],
  'accepted>voided': ['leader', 'admin'],
  'accepted>dispatched': ['leader', 'admin'],
  'returned>dispatched': ['leader', 'admin'],
  'dispatched>in_progress': ['handler'],
  'returned>in_progress': ['handler'],
  'dispatched>handled': ['handler'],
  'in_progress>handled': ['handler'],
  'handled>verified': ['worker', 'leader', 'admin'],
  'handled>returned': ['worker', 'leader', 'admin'],
  'verified>closed': ['leader', 'admin'],
  'closed>rated': ['leader', 'admin'],
  'accepted>parked': ['leader', 'admin'],
  'dispatched>parked': ['leader', 'admin'],
  'in_progress>parked': ['leader', 'admin'],
  'returned>parked': ['leader', 'admin'],
  'parked>accepted': ['leader', 'admin'],
}

const incidentIn = (status: IncidentStatus, more: Partial<WorkflowIncident> = {}): WorkflowIncident => ({
  status,
  urgency: 'normal',
  handlerId: 'u-handler',
  dispatchedAt: NOW - DAY_MS,
  ...more,
})

describe('the transition table', () => {
  it('is exactly the loop of DOMAIN.md, one row per status change', () => {
    const rows = TRANSITIONS.map((t) => `${t.from ?? 'new'}>${t.to}`)
    expect(new Set(rows).size).toBe(rows.length)
    expect(Object.fromEntries(TRANSITIONS.map((t) => [`${t.from ?? 'new'}>${t.to}`, t.roles]))).toEqual(
      EXPECTED,
    )
  })

  it('answers transition(from, to, role) for every pair and role', () => {
    for (const from of [null, ...INCIDENT_STATUSES]) {
      for (const to of INCIDENT_STATUSES) {
        for (const role of USER_ROLES) {
          const allowed = EXPECTED[`${from ?? 'new'}>${to}`]?.includes(role) ?? false
          expect(transition(from, to, role) !== null, `${from}>${to} by ${role}`).toBe(allowed)
        }
      }
    }
    expect(transition('reported', 'closed', 'admin')).toBeNull()
    expect(transitionFor('voided', 'reported')).toBeUndefined()
  })

  for (const row of TRANSITIONS) {
    const name = `${row.from ?? 'new'} --${row.action}--> ${row.to}`
    it(`${name}: the step's own patch is accepted for ${row.roles.join(', ')} and refused to the others`, () => {
      const current = row.from === null ? null : incidentIn(row.from)
      const input = { handlerId: 'u-handler', result: '已清理', reason: '原因', rating: 4 }
      for (const role of USER_ROLES) {
        const actor = ACTORS[role]
        const offered = actionsFor(current, actor).some((t) => t === row)
        expect(offered, `${role} offered ${name}`).toBe(row.roles.includes(role))
        if (!offered) {
          expect(() => stepPatch(current, row.action, actor, input, NOW)).toThrow(WorkflowError)
          // A patch forged with the right fields is still refused.
          const forged = stepPatch(current, row.action, ACTORS[row.roles[0]!], input, NOW)
          const verdict = judgeIncidentPatch(current, forged, actor)
          expect(verdict.ok, `${role} forging ${name}`).toBe(false)
          if (!verdict.ok) {
            expect(verdict.field).toBe('status')
            expect(['illegal_transition', 'forbidden']).toContain(verdict.code)
          }
          continue
        }
        const patch = stepPatch(current, row.action, actor, input, NOW)
        expect(patch.status).toBe(row.to)
        for (const field of row.requires) expect(patch[field], field).not.toBeUndefined()
        expect(judgeIncidentPatch(current, patch, actor)).toEqual({ ok: true, transition: row })
        // Leaving out any required field is refused, naming it.
        for (const field of row.requires) {
          const { [field]: _dropped, ...without } = patch
          expect(judgeIncidentPatch(current, without, actor)).toMatchObject({
            ok: false,
            code: 'workflow',
            field,
          })
        }
      }
    })
  }
})

describe('judging a patch', () => {
  it('refuses a status change off the table with a reason naming both states', () => {
    const verdict = judgeIncidentPatch(
      incidentIn('reported'),
      { status: 'closed', closedAt: NOW },
      ACTORS.worker,
    )
    expect(verdict).toEqual({
      ok: false,
      code: 'illegal_transition',
      reason: '网格员不能将事件从「已上报」改为「已结案」',
      field: 'status',
    })
    expect(judgeIncidentPatch(incidentIn('voided'), { status: 'reported' }, ACTORS.admin)).toMatchObject({
      ok: false,
      code: 'illegal_transition',
    })
  })

  it('lets only the handler the incident is dispatched to start or handle it', () => {
    const incident = incidentIn('dispatched')
    const start = { status: 'in_progress', startedAt: NOW }
    expect(judgeIncidentPatch(incident, start, ACTORS.handler).ok).toBe(true)
    expect(judgeIncidentPatch(incident, start, OTHER_HANDLER)).toMatchObject({
      ok: false,
      code: 'illegal_transition',
      field: 'status',
    })
    expect(actionsFor(incident, OTHER_HANDLER)).toEqual([])
    expect(actionsFor(incident, ACTORS.handler).map((t) => t.action)).toEqual(['start', 'handle'])
  })

  it('keeps a handler to its own steps: no edits of the report, no step-less edits', () => {
    const incident = incidentIn('dispatched')
    expect(
      judgeIncidentPatch(
        incident,
        { status: 'in_progress', startedAt: NOW, description: '改' },
        ACTORS.handler,
      ),
    ).toMatchObject({ ok: false, code: 'forbidden', field: 'description' })
    expect(judgeIncidentPatch(incident, { description: '改' }, ACTORS.handler)).toMatchObject({
      ok: false,
      code: 'forbidden',
    })
  })

  it('refuses step fields written outside their step, naming the field', () => {
    expect(judgeIncidentPatch(incidentIn('handled'), { result: '改写结果' }, ACTORS.worker)).toMatchObject({
      ok: false,
      code: 'workflow',
      field: 'result',
    })
    expect(
      judgeIncidentPatch(
        incidentIn('reported'),
        { status: 'accepted', acceptedAt: NOW, rating: 5 },
        ACTORS.leader,
      ),
    ).toMatchObject({ ok: false, code: 'workflow', field: 'rating' })
    expect(judgeIncidentPatch(incidentIn('closed'), { rating: 5 }, ACTORS.leader)).toMatchObject({
      ok: false,
      field: 'rating',
    })
    expect(
      judgeIncidentPatch(
        incidentIn('handled'),
        { status: 'returned', returnedAt: NOW, returnReason: '  ' },
        ACTORS.worker,
      ),
    ).toMatchObject({ ok: false, code: 'workflow', field: 'returnReason' })
  })

  it("lets the report's own fields be edited by workers and leaders without a step", () => {
    expect(judgeIncidentPatch(incidentIn('accepted'), { description: '补充' }, ACTORS.worker)).toEqual({
      ok: true,
      transition: null,
    })
    // Writing the status it already has is no step.
    expect(judgeIncidentPatch(incidentIn('accepted'), { status: 'accepted' }, ACTORS.worker)).toEqual({
      ok: true,
      transition: null,
    })
  })

  it('never lets quickFix change after creation, whoever asks', () => {
    for (const role of USER_ROLES) {
      for (const status of INCIDENT_STATUSES) {
        for (const quickFix of [true, false, null]) {
          expect(
            judgeIncidentPatch(incidentIn(status), { quickFix }, ACTORS[role]).ok,
            `${role} ${status}`,
          ).toBe(false)
        }
      }
    }
  })

  it("allows a leader's corrections only where they make sense", () => {
    const running = incidentIn('in_progress')
    expect(judgeIncidentPatch(running, { deadlineAt: NOW + 5 * DAY_MS }, ACTORS.leader).ok).toBe(true)
    expect(judgeIncidentPatch(running, { deadlineAt: NOW + 5 * DAY_MS }, ACTORS.worker)).toMatchObject({
      ok: false,
      field: 'deadlineAt',
    })
    // 延期 stays within 15 days of the dispatch.
    expect(judgeIncidentPatch(running, { deadlineAt: NOW + 20 * DAY_MS }, ACTORS.leader)).toMatchObject({
      ok: false,
      reason: '处置时限最长为派遣后 15 天',
    })
    expect(judgeIncidentPatch(incidentIn('closed'), { deadlineAt: NOW + DAY_MS }, ACTORS.admin).ok).toBe(
      false,
    )
    expect(judgeIncidentPatch(incidentIn('dispatched'), { handlerId: 'u-handler-2' }, ACTORS.leader).ok).toBe(
      true,
    )
    expect(judgeIncidentPatch(running, { handlerId: 'u-handler-2' }, ACTORS.leader).ok).toBe(false)
    expect(judgeIncidentPatch(incidentIn('dispatched'), { handlerId: null }, ACTORS.leader).ok).toBe(false)
  })

  it('starts new incidents as reported, or closed as a quick fix with its result', () => {
    const fields = {
      gridId: '330523102001001',
      category: 'environment',
      description: '垃圾',
      urgency: 'normal',
    }
    expect(judgeIncidentPatch(null, { ...fields, status: 'reported' }, ACTORS.worker).ok).toBe(true)
    // A form that sends every field sends step fields as null: that is no step field.
    expect(judgeIncidentPatch(null, { ...fields, status: 'reported', result: null }, ACTORS.worker).ok).toBe(
      true,
    )
    expect(
      judgeIncidentPatch(null, { ...fields, status: 'reported', result: '已清理' }, ACTORS.worker),
    ).toMatchObject({ ok: false, field: 'result' })
    const quick = stepPatch(null, 'quick_fix', ACTORS.worker, { result: '当场清理' }, NOW)
    expect(quick).toEqual({
      status: 'closed',
      quickFix: true,
      result: '当场清理',
      handledAt: NOW,
      closedAt: NOW,
    })
    expect(judgeIncidentPatch(null, { ...fields, ...quick }, ACTORS.worker)).toMatchObject({
      ok: true,
      transition: { action: 'quick_fix' },
    })
    expect(judgeIncidentPatch(null, { ...fields, ...quick, quickFix: false }, ACTORS.worker)).toMatchObject({
      ok: false,
      field: 'quickFix',
    })
    expect(
      judgeIncidentPatch(null, { ...fields, status: 'closed', closedAt: NOW, quickFix: true }, ACTORS.worker),
    ).toMatchObject({ ok: false, field: 'result' })
    for (const status of ['accepted', 'dispatched', 'rated'] as const) {
      expect(judgeIncidentPatch(null, { ...fields, status }, ACTORS.admin)).toMatchObject({
        ok: false,
        code: 'illegal_transition',
        field: 'status',
      })
    }
    expect(() => stepPatch(null, 'quick_fix', ACTORS.worker, {}, NOW)).toThrow('处置结果')
  })
})

describe('deadlines and overdue', () => {
  it('gives each urgency its days by default, capped at max', () => {
    expect(deadlineFor('urgent', NOW)).toBe(NOW + DAY_MS)
    expect(deadlineFor('normal', NOW)).toBe(NOW + 3 * DAY_MS)
    expect(deadlineFor('complex', NOW)).toBe(NOW + 7 * DAY_MS)
    const config = { urgent: 0.5, normal: 2, complex: 30, max: 10 }
    expect(deadlineFor('urgent', NOW, config)).toBe(NOW + DAY_MS / 2)
    expect(deadlineFor('complex', NOW, config)).toBe(NOW + 10 * DAY_MS)
  })

  it('sets the deadline at dispatch from the urgency, or the one the leader picked', () => {
    const accepted = incidentIn('accepted', { urgency: 'urgent' })
    const patch = stepPatch(accepted, 'dispatch', ACTORS.leader, { handlerId: 'u-handler' }, NOW)
    expect(patch).toEqual({
      status: 'dispatched',
      dispatchedAt: NOW,
      handlerId: 'u-handler',
      deadlineAt: NOW + DAY_MS,
    })
    const picked = stepPatch(
      accepted,
      'dispatch',
      ACTORS.leader,
      { handlerId: 'h', deadlineAt: NOW + 3600_000 },
      NOW,
    )
    expect(picked.deadlineAt).toBe(NOW + 3600_000)
    const tooLate = { ...patch, deadlineAt: NOW + 16 * DAY_MS }
    expect(judgeIncidentPatch(accepted, tooLate, ACTORS.leader)).toMatchObject({
      ok: false,
      field: 'deadlineAt',
    })
    const before = { ...patch, deadlineAt: NOW - 1 }
    expect(judgeIncidentPatch(accepted, before, ACTORS.leader)).toMatchObject({
      ok: false,
      reason: '处置时限应晚于派遣时间',
    })
    // A server configured with a shorter max refuses what the default allows.
    const long = { ...patch, deadlineAt: NOW + 12 * DAY_MS }
    expect(judgeIncidentPatch(accepted, long, ACTORS.leader).ok).toBe(true)
    expect(judgeIncidentPatch(accepted, long, ACTORS.leader, { ...DEFAULT_DEADLINES, max: 10 }).ok).toBe(
      false,
    )
  })

  it('is overdue only past the deadline while the handler owes the work', () => {
    const deadlineAt = NOW + DAY_MS
    for (const status of INCIDENT_STATUSES) {
      const running = ['dispatched', 'in_progress', 'returned'].includes(status)
      expect(isOverdue({ status, deadlineAt }, deadlineAt + 1), status).toBe(running)
      expect(isOverdue({ status, deadlineAt }, deadlineAt), status).toBe(false)
    }
    expect(isOverdue({ status: 'dispatched' }, NOW)).toBe(false)
    expect(timeLeft({ status: 'in_progress', deadlineAt }, NOW)).toBe(DAY_MS)
    expect(timeLeft({ status: 'in_progress', deadlineAt }, deadlineAt + 5)).toBe(-5)
    expect(timeLeft({ status: 'parked', deadlineAt }, NOW)).toBeNull()
  })

  it('reads a configuration, keeping defaults for what it leaves out', () => {
    expect(parseDeadlineConfig('')).toEqual(DEFAULT_DEADLINES)
    expect(parseDeadlineConfig('urgent=0.5, max=20,complex=10')).toEqual({
      urgent: 0.5,
      normal: 3,
      complex: 10,
      max: 20,
    })
    expect(() => parseDeadlineConfig('normal=three')).toThrow(DeadlineConfigError)
    expect(() => parseDeadlineConfig('urgent=0')).toThrow(DeadlineConfigError)
    expect(() => parseDeadlineConfig('complex=20')).toThrow('more than max')
  })
})
