import { enableAutoUnmount } from '@vue/test-utils'
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import HomeView from '../../src/views/HomeView.vue'
import type { LocalRecord } from '../../src/db/GridPatrolDb.ts'
import { CHINA_OFFSET_MS } from '#shared/domain/careVisits.ts'
import { REMINDER_STORAGE_PREFIX } from '../../src/components/tasks/taskReminder.ts'
import {
  GRID_A,
  LEADER,
  NOW,
  WORKER,
  appRouter,
  drainVantTimers,
  mountWith,
  setupEnv,
  type TestEnv,
} from './harness.ts'

const toast = vi.hoisted(() => vi.fn())
vi.mock('vant', async (importOriginal) => ({
  ...(await importOriginal<object>()),
  showToast: toast,
}))

enableAutoUnmount(afterEach)
afterAll(drainVantTimers)

let env: TestEnv
let now = NOW
beforeEach(async () => {
  localStorage.clear()
  toast.mockClear()
  now = NOW
  env = await setupEnv({ now: () => now })
})
afterEach(async () => {
  document.body.innerHTML = ''
  localStorage.clear()
  await env.close()
})

const uuid = (n: number) => `0190a000-0000-7000-8000-${String(n).padStart(12, '0')}`

function record(n: number, kind: LocalRecord['kind'], fields: Record<string, unknown>): LocalRecord {
  return {
    id: uuid(n),
    kind,
    fields: { gridId: GRID_A, ...fields },
    stamps: {},
    deleted: 0,
    gridId: GRID_A,
    villageId: '330523101001',
    townId: '330523101',
    countyId: '330523',
    updatedAt: NOW - n,
    serverSeq: 1,
    pending: 0,
  }
}

const incident = (n: number, status: string) =>
  record(n, 'incident', {
    category: 'safety',
    urgency: 'normal',
    status,
    description: `事件 ${n}`,
    reportedAt: NOW - 10_000,
    handledAt: status === 'handled' ? NOW - 5_000 + n : null,
  })
const household = (n: number, address: string) =>
  record(n, 'household', { address, housing: 'owned', headName: `户主${n}` })
const member = (n: number, householdId: string, tags: string[]) =>
  record(n, 'person', {
    householdId,
    name: `成员${n}`,
    gender: 'female',
    birthDate: '1950-01-01',
    relation: 'head',
    populationType: 'registered',
    tags,
    ...(tags.includes('disabled') ? { disabilityGrade: 2 } : {}),
  })

async function seed() {
  await env.db.records.bulkPut([
    incident(1, 'handled'),
    incident(2, 'handled'),
    incident(3, 'dispatched'),
    incident(4, 'closed'),
    household(10, '横山村1号'),
    household(11, '横山村2号'),
    household(12, '横山村3号'),
    member(20, uuid(10), ['left_behind_elderly']),
    member(21, uuid(11), ['living_alone_elderly']),
    member(22, uuid(12), ['subsistence']),
    // Visited this month: not due.
    record(30, 'visit', { targetKind: 'household', targetId: uuid(11), visitedAt: NOW - 60_000 }),
  ])
}

const ids = (root: HTMLElement, testid: string) =>
  [...root.querySelectorAll(`[data-testid="${testid}"]`)].map((el) => el.getAttribute('data-id'))

describe("the worker's tasks on the home screen", () => {
  it('lists incidents to verify and households due for a visit, with the count as a badge, each opening its record', async () => {
    await seed()
    const router = await appRouter('/')
    const { wrapper } = mountWith(HomeView, env, { router })
    const root = wrapper.element as HTMLElement
    await vi.waitFor(
      () => expect(wrapper.get('[data-testid="tasks-panel"]').attributes('data-count')).toBe('3'),
      {
        timeout: 15_000,
      },
    )
    expect(ids(root, 'task-verify').sort()).toEqual([uuid(1), uuid(2)])
    expect(ids(root, 'task-visit')).toEqual([uuid(10)])
    expect(wrapper.get('[data-testid="tasks-badge"]').text()).toBe('3')
    expect(wrapper.get('[data-testid="task-visit"]').text()).toContain('留守老人')

    await wrapper.get(`[data-testid="task-verify"][data-id="${uuid(1)}"]`).trigger('click')
    // The record screen is a lazy route: its first import (transformed on the fly here) can take seconds under load.
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe(`/records/incident/${uuid(1)}`), {
      timeout: 15_000,
    })

    // Verifying on site (an ordinary local update) takes the task off the list.
    await env.db.records.put({ ...incident(1, 'verified') })
    await vi.waitFor(() => expect(ids(root, 'task-verify')).toEqual([uuid(2)]), { timeout: 15_000 })
    expect(wrapper.get('[data-testid="tasks-badge"]').text()).toBe('2')
  })

  it('reminds with a toast once per day when something is due', async () => {
    await seed()
    const reminders = () => toast.mock.calls.map(([options]) => (options as { message: string }).message)
    const first = mountWith(HomeView, env, { router: await appRouter('/') })
    await vi.waitFor(() => expect(reminders()).toEqual(['您有 3 项待办，请及时处理']), { timeout: 15_000 })
    first.wrapper.unmount()

    // Opened again the same day: no second toast.
    const again = mountWith(HomeView, env, { router: await appRouter('/') })
    await vi.waitFor(
      () => expect(again.wrapper.get('[data-testid="tasks-panel"]').attributes('data-count')).toBe('3'),
      { timeout: 15_000 },
    )
    expect(reminders()).toHaveLength(1)
    expect(localStorage.getItem(REMINDER_STORAGE_PREFIX + WORKER.id)).toBe(
      new Date(NOW + CHINA_OFFSET_MS).toISOString().slice(0, 10),
    )
    again.wrapper.unmount()

    // The next day it reminds again.
    now = NOW + 24 * 3600_000
    mountWith(HomeView, env, { router: await appRouter('/') })
    await vi.waitFor(() => expect(reminders()).toHaveLength(2), { timeout: 15_000 })
  }, 60_000)

  it('shows nothing due and no toast when all is done, and no panel for a leader', async () => {
    const { wrapper } = mountWith(HomeView, env, { router: await appRouter('/') })
    await vi.waitFor(() => expect(wrapper.find('[data-testid="tasks-empty"]').exists()).toBe(true), {
      timeout: 15_000,
    })
    expect(wrapper.find('[data-testid="tasks-badge"]').exists()).toBe(false)
    expect(toast).not.toHaveBeenCalled()
    wrapper.unmount()
    await env.close()

    env = await setupEnv({ user: LEADER })
    await seed()
    const leader = mountWith(HomeView, env, { router: await appRouter('/') })
    await vi.waitFor(() => expect(leader.wrapper.find('[data-testid="link-dashboard"]').exists()).toBe(true))
    expect(leader.wrapper.find('[data-testid="tasks-panel"]').exists()).toBe(false)
  })
})
