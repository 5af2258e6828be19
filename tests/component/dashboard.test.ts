import { enableAutoUnmount } from '@vue/test-utils'
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { EChartsCoreOption } from 'echarts/core'
import DashboardView from '../../src/views/DashboardView.vue'
import type { LocalRecord } from '../../src/db/GridPatrolDb.ts'
import { DAY_MS } from '#shared/domain/deadlines.ts'
import {
  GRID_A,
  GRID_B,
  LEADER,
  NOW,
  appRouter,
  drainVantTimers,
  mountWith,
  setupEnv,
  type TestEnv,
} from './harness.ts'

/** ECharts is not drawn in happy-dom: the test reads the options the dashboard hands to it. */
const drawn = vi.hoisted(() => [] as { element: HTMLElement; options: unknown[] }[])
vi.mock('../../src/components/dashboard/echartsLoader.ts', () => ({
  loadECharts: async () => (element: HTMLElement) => {
    const chart = { element, options: [] as unknown[] }
    drawn.push(chart)
    return {
      setOption: (option: unknown) => chart.options.push(option),
      resize: () => undefined,
      dispose: () => undefined,
    }
  },
}))

enableAutoUnmount(afterEach)
afterAll(drainVantTimers)

let env: TestEnv
beforeEach(async () => {
  drawn.length = 0
  env = await setupEnv({ user: LEADER })
})
afterEach(async () => {
  document.body.innerHTML = ''
  await env.close()
})

const uuid = (n: number) => `0190a000-0000-7000-8000-${String(n).padStart(12, '0')}`
function record(
  n: number,
  kind: LocalRecord['kind'],
  gridId: string,
  fields: Record<string, unknown>,
): LocalRecord {
  return {
    id: uuid(n),
    kind,
    fields: { gridId, ...fields },
    stamps: {},
    deleted: 0,
    gridId,
    villageId: '330523101001',
    townId: '330523101',
    countyId: '330523',
    updatedAt: NOW,
    serverSeq: 1,
    pending: 0,
  }
}
const incident = (n: number, gridId: string, fields: Record<string, unknown>) =>
  record(n, 'incident', gridId, {
    category: 'safety',
    urgency: 'normal',
    status: 'reported',
    description: `事件 ${n}`,
    reportedAt: NOW - DAY_MS,
    ...fields,
  })

async function seed() {
  await env.db.records.bulkPut([
    incident(1, GRID_A, {
      status: 'closed',
      handledAt: NOW - DAY_MS + 4 * 3600_000,
      closedAt: NOW - DAY_MS + 10 * 3600_000,
    }),
    incident(2, GRID_A, { status: 'handled', category: 'dispute', handledAt: NOW - DAY_MS + 8 * 3600_000 }),
    incident(3, GRID_B, {
      status: 'dispatched',
      deadlineAt: NOW - 2.5 * DAY_MS,
      reportedAt: NOW - 5 * DAY_MS,
    }),
    incident(4, GRID_B, { status: 'reported' }),
    // Reported 60 days ago: only in the "all" and 90-day views.
    incident(5, GRID_B, { status: 'reported', reportedAt: NOW - 60 * DAY_MS }),
    record(10, 'visit', GRID_A, { targetKind: 'household', targetId: uuid(99), visitedAt: NOW - DAY_MS }),
    record(11, 'visit', GRID_B, { targetKind: 'household', targetId: uuid(98), visitedAt: NOW - DAY_MS }),
    record(12, 'visit', GRID_B, { targetKind: 'household', targetId: uuid(97), visitedAt: NOW - 2 * DAY_MS }),
  ])
}

type Pie = { series: { data: { name: string; value: number }[] }[] }
type Bar = { xAxis: { data: string[] }; series: { name?: string; data: number[] }[] }
const lastOption = (label: string) => {
  const chart = drawn.find((c) => c.element.getAttribute('aria-label') === label)
  return chart?.options.at(-1) as EChartsCoreOption | undefined
}
const figures = (root: HTMLElement, testid: string) =>
  Object.fromEntries(
    [...root.querySelectorAll(`[data-testid="${testid}"] li`)].map((li) => [
      li.getAttribute('data-key'),
      Number(li.getAttribute('data-count')),
    ]),
  )

describe('the dashboard', () => {
  it('shows the figures of the records on the device and hands the same numbers to the charts', async () => {
    await seed()
    const router = await appRouter('/dashboard')
    const { wrapper } = mountWith(DashboardView, env, { router })
    const root = wrapper.element as HTMLElement
    await vi.waitFor(() => expect(wrapper.find('[data-testid="dash-total"]').exists()).toBe(true), {
      timeout: 15_000,
    })

    expect(wrapper.get('[data-testid="dash-total"]').text()).toBe('5')
    expect(wrapper.get('[data-testid="dash-open"]').text()).toBe('4')
    expect(wrapper.get('[data-testid="dash-overdue-count"]').text()).toBe('1')
    expect(figures(root, 'dash-by-status')).toEqual({ reported: 2, dispatched: 1, handled: 1, closed: 1 })
    expect(figures(root, 'dash-by-category')).toEqual({ dispute: 1, safety: 4 })
    expect(wrapper.get('[data-testid="dash-to-handled"]').text()).toContain('6.0 小时（2 件）')
    expect(wrapper.get('[data-testid="dash-to-closed"]').text()).toContain('10.0 小时（1 件）')
    const overdue = wrapper.get('[data-testid="dash-overdue"]')
    expect(overdue.attributes('data-id')).toBe(uuid(3))
    expect(overdue.text()).toContain('超期 3 天')
    const visitRows = [...root.querySelectorAll('[data-testid="dash-table-visits"] tbody tr')].map((tr) =>
      [...tr.querySelectorAll('td')].map((td) => Number(td.textContent)),
    )
    expect(visitRows).toEqual([[1], [2]])

    await vi.waitFor(() => expect(lastOption('按状态')).toBeDefined(), { timeout: 15_000 })
    const pie = lastOption('按状态') as Pie
    expect(pie.series[0]!.data).toEqual([
      { name: '已上报', value: 2 },
      { name: '已派遣', value: 1 },
      { name: '已办结', value: 1 },
      { name: '已结案', value: 1 },
    ])
    const categories = lastOption('按类别') as Bar
    expect(categories.xAxis.data).toEqual(['矛盾纠纷', '安全隐患'])
    expect(categories.series[0]!.data).toEqual([1, 4])
    const visits = lastOption('各网格每月走访') as Bar
    expect(visits.series.map((s) => [s.name, s.data])).toEqual([
      ['横山村第一网格', [1]],
      ['横山村第二网格', [2]],
    ])

    // A tap on an overdue incident opens it.
    await overdue.trigger('click')
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe(`/records/incident/${uuid(3)}`))
  })

  it('narrows everything to the date range', async () => {
    await seed()
    const { wrapper } = mountWith(DashboardView, env, { router: await appRouter('/dashboard') })
    await vi.waitFor(() => expect(wrapper.find('[data-testid="dash-total"]').exists()).toBe(true), {
      timeout: 15_000,
    })
    expect(wrapper.get('[data-testid="dash-total"]').text()).toBe('5')

    await wrapper.get('[data-testid="dash-preset-30"]').trigger('click')
    await vi.waitFor(() => expect(wrapper.get('[data-testid="dash-total"]').text()).toBe('4'))
    await vi.waitFor(() =>
      expect((lastOption('按状态') as Pie).series[0]!.data[0]).toEqual({ name: '已上报', value: 1 }),
    )

    // A custom range: only the day before yesterday (the overdue incident was reported earlier; one visit).
    const day = (at: number) => new Date(at + 8 * 3600_000).toISOString().slice(0, 10)
    await wrapper.get('[data-testid="dash-from"]').setValue(day(NOW - 2 * DAY_MS))
    await wrapper.get('[data-testid="dash-to"]').setValue(day(NOW - 2 * DAY_MS))
    await vi.waitFor(() => expect(wrapper.get('[data-testid="dash-total"]').text()).toBe('0'))
    const visitRows = [...wrapper.element.querySelectorAll('[data-testid="dash-table-visits"] tbody tr')]
    expect(visitRows.map((tr) => tr.getAttribute('data-grid'))).toEqual([GRID_B])

    await wrapper.get('[data-testid="dash-preset-all"]').trigger('click')
    await vi.waitFor(() => expect(wrapper.get('[data-testid="dash-total"]').text()).toBe('5'))
  })
})
