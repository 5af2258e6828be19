import { describe, expect, it } from 'vitest'
import { CHINA_OFFSET_MS } from '#shared/domain/careVisits.ts'
import { DAY_MS } from '#shared/domain/deadlines.ts'
import { dashboardStats, isoWeekOf, monthOf, type StatsRecord } from '../../src/stats/dashboardStats.ts'

const cst = (y: number, m: number, d: number, h = 0) => Date.UTC(y, m - 1, d, h) - CHINA_OFFSET_MS
const HOUR = 3600_000
const NOW = cst(2026, 6, 15, 12)

const incident = (id: string, fields: Record<string, unknown>): StatsRecord => ({
  id,
  fields: { gridId: 'A', category: 'safety', status: 'reported', description: id, ...fields },
})
const visit = (id: string, gridId: string, visitedAt: number): StatsRecord => ({
  id,
  fields: { gridId, targetKind: 'household', targetId: 'h', visitedAt },
})

const incidents = [
  // Handled after 10 h, closed after 30 h.
  incident('closed', {
    status: 'closed',
    reportedAt: cst(2026, 6, 1, 8),
    handledAt: cst(2026, 6, 1, 18),
    closedAt: cst(2026, 6, 2, 14),
  }),
  // Handled after 20 h; still open (handled).
  incident('handled', {
    status: 'handled',
    category: 'dispute',
    reportedAt: cst(2026, 6, 2, 8),
    handledAt: cst(2026, 6, 3, 4),
  }),
  // Overdue by 2 days and by 1 day; a parked one past its deadline is not overdue.
  incident('late2', {
    status: 'dispatched',
    gridId: 'B',
    reportedAt: cst(2026, 6, 8),
    deadlineAt: NOW - 2 * DAY_MS,
  }),
  incident('late1', {
    status: 'returned',
    gridId: 'B',
    reportedAt: cst(2026, 6, 9),
    deadlineAt: NOW - DAY_MS,
  }),
  incident('parked', {
    status: 'parked',
    gridId: 'B',
    reportedAt: cst(2026, 6, 9),
    deadlineAt: NOW - DAY_MS,
  }),
  incident('running', { status: 'in_progress', reportedAt: cst(2026, 6, 10), deadlineAt: NOW + DAY_MS }),
  // A skewed clock: handled "before" it was reported is left out of the averages.
  incident('skewed', { status: 'voided', reportedAt: cst(2026, 6, 11), handledAt: cst(2026, 6, 10) }),
  // Out of the range used below.
  incident('old', {
    status: 'closed',
    reportedAt: cst(2026, 4, 1),
    handledAt: cst(2026, 4, 20),
    closedAt: cst(2026, 4, 30),
  }),
]
const visits = [
  visit('v1', 'A', cst(2026, 5, 31, 23)),
  visit('v2', 'A', cst(2026, 6, 1, 1)),
  visit('v3', 'B', cst(2026, 6, 3)),
  visit('v4', 'A', cst(2026, 6, 4)),
  visit('v-old', 'B', cst(2026, 3, 4)),
]

describe('dashboard statistics', () => {
  it('names ISO weeks and months in China Standard Time', () => {
    expect(isoWeekOf(cst(2026, 1, 1))).toBe('2026-W01') // a Thursday
    expect(isoWeekOf(cst(2027, 1, 1))).toBe('2026-W53') // a Friday: still the last week of 2026
    expect(isoWeekOf(cst(2026, 6, 7, 23))).toBe('2026-W23') // Sunday night belongs to the week before
    expect(isoWeekOf(cst(2026, 6, 8, 0))).toBe('2026-W24')
    expect(monthOf(cst(2026, 5, 31, 23))).toBe('2026-05')
    expect(monthOf(cst(2026, 6, 1, 0))).toBe('2026-06')
  })

  it('counts by status and category, lists the overdue, averages handling times', () => {
    const stats = dashboardStats(incidents, visits, { from: cst(2026, 5, 1), to: null }, NOW)
    expect(stats.total).toBe(7)
    expect(stats.open).toBe(5) // all but closed and voided
    expect(stats.byStatus).toEqual([
      { key: 'voided', count: 1 },
      { key: 'dispatched', count: 1 },
      { key: 'in_progress', count: 1 },
      { key: 'handled', count: 1 },
      { key: 'returned', count: 1 },
      { key: 'closed', count: 1 },
      { key: 'parked', count: 1 },
    ])
    expect(stats.byCategory).toEqual([
      { key: 'dispute', count: 1 },
      { key: 'safety', count: 6 },
    ])
    expect(stats.overdue.map((item) => [item.id, item.overdueMs])).toEqual([
      ['late2', 2 * DAY_MS],
      ['late1', DAY_MS],
    ])
    expect(stats.overdueCount).toBe(2)
    expect(stats.toHandled).toEqual({ meanMs: 15 * HOUR, samples: 2 })
    expect(stats.toClosed).toEqual({ meanMs: 30 * HOUR, samples: 1 })
  })

  it('counts incidents per grid and week and visits per grid and month, zeros included', () => {
    const stats = dashboardStats(incidents, visits, { from: cst(2026, 5, 1), to: null }, NOW)
    expect(stats.byGridWeekly).toEqual({
      grids: ['A', 'B'],
      periods: ['2026-W23', '2026-W24'],
      counts: [
        [2, 2],
        [0, 3],
      ],
    })
    expect(stats.visitsByGridMonthly).toEqual({
      grids: ['A', 'B'],
      periods: ['2026-05', '2026-06'],
      counts: [
        [1, 2],
        [0, 1],
      ],
    })
  })

  it('counts visits per visitor in the range, most first, leaving out visits without one', () => {
    const by = (id: string, name: string) => ({ visitorId: id, visitorName: name })
    const withVisitors = [
      { ...visits[0]!, fields: { ...visits[0]!.fields, ...by('u1', '网格员 潘晓燕') } },
      { ...visits[1]!, fields: { ...visits[1]!.fields, ...by('u2', '网格员 胡建华') } },
      { ...visits[2]!, fields: { ...visits[2]!.fields, ...by('u2', '网格员 胡建华') } },
      { ...visits[4]!, fields: { ...visits[4]!.fields, ...by('u1', '网格员 潘晓燕') } },
      visits[3]!,
    ]
    const recent = dashboardStats(incidents, withVisitors, { from: cst(2026, 5, 1), to: null }, NOW)
    expect(recent.visitsByWorker).toEqual([
      { name: '网格员 胡建华', count: 2 },
      { name: '网格员 潘晓燕', count: 1 },
    ])
    const all = dashboardStats(incidents, withVisitors, { from: null, to: null }, NOW)
    expect(all.visitsByWorker.map((entry) => entry.count)).toEqual([2, 2])
  })

  it('applies the date range to reports and visits', () => {
    const stats = dashboardStats(incidents, visits, { from: null, to: cst(2026, 6, 1, 12) }, NOW)
    expect(stats.total).toBe(2)
    expect(stats.toClosed).toEqual({ meanMs: (30 * HOUR + 29 * DAY_MS) / 2, samples: 2 })
    expect(stats.toHandled).toEqual({ meanMs: (10 * HOUR + 19 * DAY_MS) / 2, samples: 2 })
    expect(stats.visitsByGridMonthly).toEqual({
      grids: ['A', 'B'],
      periods: ['2026-03', '2026-05', '2026-06'],
      counts: [
        [0, 1, 1],
        [1, 0, 0],
      ],
    })
    const none = dashboardStats(incidents, visits, { from: cst(2030, 1, 1), to: null }, NOW)
    expect(none).toMatchObject({
      total: 0,
      open: 0,
      overdueCount: 0,
      byStatus: [],
      toHandled: { meanMs: null, samples: 0 },
    })
  })
})
