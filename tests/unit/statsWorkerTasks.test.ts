import { describe, expect, it } from 'vitest'
import { CHINA_OFFSET_MS, dueVisits, periodStart, visitPeriodOf } from '#shared/domain/careVisits.ts'
import { workerTasks, type TaskRecord } from '../../src/stats/workerTasks.ts'

/** A UTC+8 wall-clock time as ms. */
const cst = (y: number, m: number, d: number, h = 0, min = 0) =>
  Date.UTC(y, m - 1, d, h, min) - CHINA_OFFSET_MS

describe('care visit periods', () => {
  it('starts months and quarters in China Standard Time', () => {
    // 2026-03-31 23:30 in Beijing is still March, although it is already April nowhere west of UTC+8.5.
    expect(periodStart('month', cst(2026, 3, 31, 23, 30))).toBe(cst(2026, 3, 1))
    expect(periodStart('month', cst(2026, 4, 1, 0, 0))).toBe(cst(2026, 4, 1))
    expect(periodStart('quarter', cst(2026, 3, 31, 23, 30))).toBe(cst(2026, 1, 1))
    expect(periodStart('quarter', cst(2026, 8, 15))).toBe(cst(2026, 7, 1))
    expect(periodStart('quarter', cst(2026, 12, 31, 23, 59))).toBe(cst(2026, 10, 1))
  })

  it('takes the shortest period among the tags and ignores tags that ask for no visits', () => {
    expect(visitPeriodOf(['disabled'])).toBe('quarter')
    expect(visitPeriodOf(['disabled', 'left_behind_children'])).toBe('month')
    expect(visitPeriodOf(['living_alone_elderly'])).toBe('month')
    expect(visitPeriodOf(['subsistence', 'key_person'])).toBeNull()
    expect(visitPeriodOf([])).toBeNull()
  })

  it('is due when no visit to the household falls in the current period', () => {
    const now = cst(2026, 5, 20)
    const members = [
      { householdId: 'h-elderly', tags: ['left_behind_elderly'] },
      { householdId: 'h-visited', tags: ['living_alone_elderly'] },
      { householdId: 'h-disabled', tags: ['disabled'] },
      { householdId: 'h-both', tags: ['disabled'] },
      { householdId: 'h-both', tags: ['left_behind_children', 'subsistence'] },
      { householdId: 'h-none', tags: ['subsistence'] },
      { householdId: 'h-untagged' },
    ]
    const visits = [
      // Last month only: the monthly household is due again.
      { targetKind: 'household', targetId: 'h-elderly', visitedAt: cst(2026, 4, 30, 23, 59) },
      { targetKind: 'household', targetId: 'h-visited', visitedAt: cst(2026, 5, 1, 0, 0) },
      // April is in the quarter: the quarterly household is not due.
      { targetKind: 'household', targetId: 'h-disabled', visitedAt: cst(2026, 4, 2) },
      // A monthly need is not met by a visit earlier in the quarter.
      { targetKind: 'household', targetId: 'h-both', visitedAt: cst(2026, 4, 2) },
      // A place with the same id is not a household visit.
      { targetKind: 'place', targetId: 'h-elderly', visitedAt: cst(2026, 5, 10) },
    ]
    const due = dueVisits(members, visits, now)
    expect(due.map((d) => d.householdId)).toEqual(['h-elderly', 'h-both'])
    expect(due[1]).toEqual({
      householdId: 'h-both',
      period: 'month',
      tags: ['left_behind_children', 'disabled'],
      since: cst(2026, 5, 1),
    })
  })
})

const rec = (id: string, fields: Record<string, unknown>): TaskRecord => ({ id, fields })

describe('worker tasks', () => {
  const now = cst(2026, 5, 20)
  const records = {
    incidents: [
      rec('i-handled-late', {
        status: 'handled',
        handledAt: 200,
        gridId: 'g',
        category: 'safety',
        description: 'B',
      }),
      rec('i-handled-early', {
        status: 'handled',
        handledAt: 100,
        gridId: 'g',
        category: 'dispute',
        description: 'A',
      }),
      rec('i-dispatched', { status: 'dispatched', gridId: 'g', category: 'safety', description: 'C' }),
      rec('i-closed', { status: 'closed', gridId: 'g', category: 'safety', description: 'D' }),
    ],
    households: [
      rec('h1', { address: '横山村2号', headName: '张三', gridId: 'g' }),
      rec('h2', { address: '横山村1号', headName: '李四', gridId: 'g' }),
    ],
    persons: [
      rec('p1', { householdId: 'h1', tags: ['left_behind_elderly'] }),
      rec('p2', { householdId: 'h2', tags: ['disabled'] }),
      // A member of a household no longer on the device makes no task.
      rec('p3', { householdId: 'h-gone', tags: ['left_behind_children'] }),
    ],
    visits: [],
  }

  it('lists handled incidents the worker may verify, longest waiting first, and due households', () => {
    const tasks = workerTasks({ id: 'w', role: 'worker' }, records, now)
    expect(tasks.verify.map((task) => task.id)).toEqual(['i-handled-early', 'i-handled-late'])
    expect(tasks.visits.map((task) => [task.householdId, task.address, task.period])).toEqual([
      ['h2', '横山村1号', 'quarter'],
      ['h1', '横山村2号', 'month'],
    ])
    expect(tasks.count).toBe(4)
  })

  it('offers no verification to a role the workflow does not let verify', () => {
    const tasks = workerTasks({ id: 'x', role: 'handler' }, records, now)
    expect(tasks.verify).toEqual([])
    expect(tasks.count).toBe(tasks.visits.length)
  })
})
