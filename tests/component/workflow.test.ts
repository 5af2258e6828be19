/**
 * The closed loop on the device: the steps a user may take now, each saved as an ordinary (offline) edit with
 * stepPatch's fields; the dispatch picker's handler list (online, then cached per grid); deadlines and overdue in
 * red on the incident and its list row; 即办件 on the new-incident form; refusal labels; the timeline.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { enableAutoUnmount, type VueWrapper } from '@vue/test-utils'
import { DAY_MS } from '#shared/domain/deadlines.ts'
import type { Handler } from '#shared/schemas/api.ts'
import type { Timeline, TimelineEntry } from '#shared/schemas/timeline.ts'
import type { SessionUser } from '#shared/schemas/api.ts'
import IncidentWorkflowPanel from '../../src/components/workflow/IncidentWorkflowPanel.vue'
import RecordTimeline from '../../src/components/workflow/RecordTimeline.vue'
import IncidentForm from '../../src/components/incident/IncidentForm.vue'
import RecordListItem from '../../src/components/records/RecordListItem.vue'
import RefusedOpsList from '../../src/components/sync/RefusedOpsList.vue'
import type { RefusedOp } from '../../src/db/GridPatrolDb.ts'
import { setServices } from '../../src/stores/services.ts'
import { useRecordsStore } from '../../src/stores/useRecordsStore.ts'
import { TransportError } from '../../src/sync/ports.ts'
import type { WorkflowApi } from '../../src/sync/workflowApi.ts'
import { GRID_A, HANDLER, LEADER, NOW, WORKER, mountWith, settle, setupEnv, type TestEnv } from './harness.ts'
import { fill, gridsShown } from './formHelpers.ts'

enableAutoUnmount(afterEach)

const HOUR = 3_600_000
const WATER: Handler = { id: HANDLER.id, name: '水利站' }
const ROADS: Handler = { id: 'u-roads', name: '交通站' }

let env: TestEnv
let online = false
let handlerCalls = 0
let timelineAnswer: Timeline | null = null

async function start(user: SessionUser, options: { online?: boolean } = {}) {
  online = options.online ?? false
  env = await setupEnv({ user, online: online })
  handlerCalls = 0
  const offline = () => Promise.reject(new TransportError('network error: offline'))
  const workflow: WorkflowApi = {
    handlers: (gridId) => {
      handlerCalls += 1
      return gridId === GRID_A ? Promise.resolve([WATER, ROADS]) : offline()
    },
    timeline: () => (timelineAnswer ? Promise.resolve(timelineAnswer) : offline()),
  }
  setServices({ workflow, isOnline: () => online })
}

afterEach(async () => {
  document.body.innerHTML = ''
  timelineAnswer = null
  await env.close()
})

async function incident(fields: Record<string, unknown>) {
  const records = useRecordsStore(env.pinia)
  const id = await records.create('incident', {
    gridId: GRID_A,
    category: 'environment',
    description: '溪边有人倾倒建筑垃圾',
    urgency: 'normal',
    status: 'reported',
    reportedAt: NOW - DAY_MS,
    ...fields,
  })
  return (await records.get(id))!
}

async function mountPanel(record: Awaited<ReturnType<typeof incident>>) {
  const { wrapper } = mountWith(IncidentWorkflowPanel, env, { props: { record } })
  await settle()
  return wrapper as VueWrapper
}

const steps = (wrapper: VueWrapper) =>
  wrapper.findAll('[data-testid^="step-"]').map((button) => button.attributes('data-testid'))

/** The popup is teleported to the body. */
const popup = () => document.querySelector<HTMLElement>('[data-testid="step-popup"]')
const inPopup = <T extends HTMLElement = HTMLElement>(selector: string) =>
  popup()?.querySelector<T>(selector) ?? null

function type(selector: string, value: string) {
  const input = inPopup<HTMLInputElement | HTMLTextAreaElement>(selector)!
  input.value = value
  input.dispatchEvent(new Event('input'))
}

async function submitStep() {
  inPopup('[data-testid="step-submit"]')!.click()
  await settle()
}

describe('IncidentWorkflowPanel', () => {
  it('offers a leader accept and void on a reported incident, a worker nothing; accept saves the step', async () => {
    await start(WORKER)
    const record = await incident({})
    const asWorker = await mountPanel(record)
    expect(steps(asWorker)).toEqual([])
    asWorker.unmount()
    await env.close()

    await start(LEADER)
    const reported = await incident({})
    const wrapper = await mountPanel(reported)
    expect(steps(wrapper)).toEqual(['step-accept', 'step-void'])
    const update = vi.spyOn(useRecordsStore(env.pinia), 'update')
    await wrapper.get('[data-testid="step-accept"]').trigger('click')
    await settle()
    expect(popup()?.dataset.action).toBe('accept')
    expect(popup()?.textContent).toContain('确定「受理」该事件？')
    await submitStep()
    await vi.waitFor(() => expect(update).toHaveBeenCalledTimes(1), { timeout: 15_000 })
    expect(update).toHaveBeenCalledWith('incident', reported.id, { status: 'accepted', acceptedAt: NOW })
    expect(wrapper.emitted('stepped')).toEqual([['accept']])
    // Saved offline, as an ordinary edit waiting in the outbox.
    const saved = await useRecordsStore(env.pinia).get(reported.id)
    expect(saved?.fields).toMatchObject({ status: 'accepted', acceptedAt: NOW })
    expect(await env.db.outbox.count()).toBe(2)
  })

  it('dispatches to a handler picked from the server list with the urgency deadline, then uses the cached list offline', async () => {
    await start(LEADER, { online: true })
    const accepted = await incident({ status: 'accepted', urgency: 'urgent', acceptedAt: NOW - HOUR })
    const wrapper = await mountPanel(accepted)
    expect(steps(wrapper)).toEqual(['step-void', 'step-dispatch', 'step-park'])
    const update = vi.spyOn(useRecordsStore(env.pinia), 'update')
    await wrapper.get('[data-testid="step-dispatch"]').trigger('click')
    await vi.waitFor(
      () => expect(popup()?.querySelectorAll('[data-testid="handler-option"]')).toHaveLength(2),
      { timeout: 15_000 },
    )
    // No handler chosen yet: refused in the popup.
    await submitStep()
    expect(inPopup('[data-testid="step-error"]')?.textContent).toBe('请选择责任单位')
    inPopup<HTMLElement>(`[data-handler-id="${ROADS.id}"]`)!.click()
    await settle()
    await submitStep()
    await vi.waitFor(() => expect(update).toHaveBeenCalledTimes(1), { timeout: 15_000 })
    // Urgent: one day (the datetime-local input keeps minutes, so the default is NOW + 1 day to the minute).
    const [, , patch] = update.mock.calls[0]!
    expect(patch).toMatchObject({ status: 'dispatched', dispatchedAt: NOW, handlerId: ROADS.id })
    expect(Math.abs((patch.deadlineAt as number) - (NOW + DAY_MS))).toBeLessThan(60_000)
    expect(handlerCalls).toBe(1)

    // The signal drops: the list seen for this grid still serves.
    online = false
    wrapper.unmount()
    const again = await mountPanel(await incident({ status: 'accepted', acceptedAt: NOW }))
    await again.get('[data-testid="step-dispatch"]').trigger('click')
    await vi.waitFor(
      () => expect(popup()?.querySelectorAll('[data-testid="handler-option"]')).toHaveLength(2),
      { timeout: 15_000 },
    )
    expect(popup()?.textContent).toContain('当前离线，使用上次获取的列表')
    expect(handlerCalls).toBe(1)
  })

  it("shows a leader the dispatched handler's name from the grid's list", async () => {
    await start(LEADER, { online: true })
    const wrapper = await mountPanel(
      await incident({
        status: 'dispatched',
        handlerId: ROADS.id,
        dispatchedAt: NOW,
        deadlineAt: NOW + DAY_MS,
      }),
    )
    await vi.waitFor(
      () => expect(wrapper.get('[data-testid="incident-handler"]').text()).toContain('交通站'),
      {
        timeout: 15_000,
      },
    )
  })

  it('says a handler can only be chosen online when no list was seen', async () => {
    await start(LEADER)
    const wrapper = await mountPanel(await incident({ status: 'accepted', acceptedAt: NOW }))
    await wrapper.get('[data-testid="step-dispatch"]').trigger('click')
    await vi.waitFor(() => expect(inPopup('[data-testid="handlers-offline"]')).not.toBeNull(), {
      timeout: 15_000,
    })
    expect(inPopup('[data-testid="handlers-offline"]')!.textContent!.trim()).toBe('需联网选择处理人')
    expect(handlerCalls).toBe(0)
  })

  it("offers the assigned handler start and handle (a result required), and nobody else's handler", async () => {
    await start(HANDLER)
    const mine = await incident({
      status: 'dispatched',
      handlerId: HANDLER.id,
      dispatchedAt: NOW - HOUR,
      deadlineAt: NOW + 2 * DAY_MS + 3 * HOUR,
    })
    const wrapper = await mountPanel(mine)
    expect(steps(wrapper)).toEqual(['step-start', 'step-handle'])
    expect(wrapper.get('[data-testid="incident-handler"]').text()).toContain(HANDLER.displayName)
    expect(wrapper.get('[data-testid="incident-deadline"]').attributes('data-overdue')).toBe('false')
    expect(wrapper.get('[data-testid="incident-time-left"]').text()).toBe('剩余 2 天 3 小时')
    const update = vi.spyOn(useRecordsStore(env.pinia), 'update')
    await wrapper.get('[data-testid="step-handle"]').trigger('click')
    await settle()
    await submitStep()
    expect(inPopup('[data-testid="step-error"]')?.textContent).toBe('请填写处置结果')
    type('[data-testid="step-result"]', '已清运垃圾并设置警示牌')
    await submitStep()
    await vi.waitFor(() => expect(update).toHaveBeenCalledTimes(1), { timeout: 15_000 })
    expect(update).toHaveBeenCalledWith('incident', mine.id, {
      status: 'handled',
      handledAt: NOW,
      result: '已清运垃圾并设置警示牌',
    })
    wrapper.unmount()

    const others = await mountPanel(
      await incident({
        status: 'dispatched',
        handlerId: ROADS.id,
        dispatchedAt: NOW,
        deadlineAt: NOW + DAY_MS,
      }),
    )
    expect(steps(others)).toEqual([])
  })

  it('lets the worker send a handled incident back with a reason, or verify it', async () => {
    await start(WORKER)
    const handled = await incident({
      status: 'handled',
      handlerId: HANDLER.id,
      handledAt: NOW,
      result: '已处理',
    })
    const wrapper = await mountPanel(handled)
    expect(steps(wrapper)).toEqual(['step-verify', 'step-send_back'])
    const update = vi.spyOn(useRecordsStore(env.pinia), 'update')
    await wrapper.get('[data-testid="step-send_back"]').trigger('click')
    await settle()
    await submitStep()
    expect(inPopup('[data-testid="step-error"]')?.textContent).toBe('请填写原因')
    expect(update).not.toHaveBeenCalled()
    type('[data-testid="step-reason"]', '垃圾仍未清完')
    await submitStep()
    await vi.waitFor(() => expect(update).toHaveBeenCalledTimes(1), { timeout: 15_000 })
    expect(update).toHaveBeenCalledWith('incident', handled.id, {
      status: 'returned',
      returnedAt: NOW,
      returnReason: '垃圾仍未清完',
    })
  })

  it('shows an overdue incident in red, on its screen and on its list row', async () => {
    await start(LEADER)
    const late = await incident({
      status: 'in_progress',
      handlerId: HANDLER.id,
      dispatchedAt: NOW - 3 * DAY_MS,
      deadlineAt: NOW - 2 * HOUR - 5 * 60_000,
    })
    const wrapper = await mountPanel(late)
    expect(wrapper.get('[data-testid="incident-deadline"]').attributes('data-overdue')).toBe('true')
    expect(wrapper.get('[data-testid="incident-deadline"]').classes()).toContain('gp-loop-overdue')
    expect(wrapper.get('[data-testid="incident-time-left"]').text()).toBe('已超期 2 小时 5 分钟')

    const row = (fields: Record<string, unknown>) =>
      mountWith(RecordListItem, env, { props: { id: late.id, kind: 'incident', fields } }).wrapper
    expect(row(late.fields).find('[data-testid="overdue-tag"]').text()).toBe('超期')
    // Handled: the handler owes nothing any more, whatever the deadline said.
    expect(
      row({ ...late.fields, status: 'handled' })
        .find('[data-testid="overdue-tag"]')
        .exists(),
    ).toBe(false)
    expect(
      row({ ...late.fields, deadlineAt: NOW + HOUR })
        .find('[data-testid="overdue-tag"]')
        .exists(),
    ).toBe(false)
  })
})

describe('即办件 on the new-incident form', () => {
  it('creates the incident closed with the fix, which it requires', async () => {
    await start(WORKER)
    const { wrapper } = mountWith(IncidentForm, env)
    await gridsShown(wrapper as VueWrapper)
    const create = vi.spyOn(useRecordsStore(env.pinia), 'create')
    await wrapper.get('[data-testid="field-category-environment"]').trigger('click')
    await fill(wrapper as VueWrapper, 'description', '路灯不亮')
    await wrapper.get('[data-testid="quick-fix"]').trigger('click')
    await settle()
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await settle()
    expect(create).not.toHaveBeenCalled()
    expect(wrapper.text()).toContain('请填写处置结果')
    await fill(wrapper as VueWrapper, 'result', '已更换灯泡')
    vi.useFakeTimers({ toFake: ['Date'], now: NOW })
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    vi.useRealTimers()
    await vi.waitFor(() => expect(create).toHaveBeenCalledTimes(1), { timeout: 15_000 })
    expect(create.mock.calls[0]![1]).toMatchObject({
      status: 'closed',
      quickFix: true,
      result: '已更换灯泡',
      handledAt: NOW,
      closedAt: NOW,
    })
  })

  it('reports as usual when the switch is off', async () => {
    await start(WORKER)
    const { wrapper } = mountWith(IncidentForm, env)
    await gridsShown(wrapper as VueWrapper)
    const create = vi.spyOn(useRecordsStore(env.pinia), 'create')
    await wrapper.get('[data-testid="field-category-environment"]').trigger('click')
    await fill(wrapper as VueWrapper, 'description', '路灯不亮')
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await vi.waitFor(() => expect(create).toHaveBeenCalledTimes(1), { timeout: 15_000 })
    const fields = create.mock.calls[0]![1]
    expect(fields.status).toBe('reported')
    expect(fields).not.toHaveProperty('quickFix')
  })
})

describe("the handler's view of the report", () => {
  it('offers no save: a handler only takes its steps', async () => {
    await start(HANDLER)
    const mine = await incident({
      status: 'dispatched',
      handlerId: HANDLER.id,
      dispatchedAt: NOW,
      deadlineAt: NOW + DAY_MS,
    })
    const { wrapper } = mountWith(IncidentForm, env, { props: { record: mine } })
    await settle()
    expect(wrapper.find('[data-testid="form-save"]').exists()).toBe(false)
    wrapper.unmount()
    await env.close()

    await start(WORKER)
    const reported = await incident({})
    const asWorker = mountWith(IncidentForm, env, { props: { record: reported } }).wrapper
    await settle()
    expect(asWorker.find('[data-testid="form-save"]').exists()).toBe(true)
  })
})

describe('refusals of steps', () => {
  it('names the workflow codes and step fields in Chinese', async () => {
    await start(LEADER)
    const refused = (seq: number, code: string, field: string, reason: string) =>
      ({
        type: 'put',
        seq,
        kind: 'incident',
        id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
        stamp: `${NOW}:0000:device01`,
        base: {},
        create: false,
        fields: { status: 'dispatched' },
        prev: {},
        code,
        reason,
        field,
        refusedAt: NOW,
      }) as RefusedOp
    await env.db.refused.bulkPut([
      refused(1, 'stale_transition', 'status', '事件已被他人改为「已作废」，请同步后重试'),
      refused(2, 'illegal_transition', 'status', '网格员不能将事件从「已上报」改为「已派遣」'),
      refused(3, 'workflow', 'deadlineAt', '处置时限最长为派遣后 15 天'),
    ])
    const { wrapper } = mountWith(RefusedOpsList, env)
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid="refused-item"]')).toHaveLength(3), {
      timeout: 15_000,
    })
    const items = wrapper.findAll('[data-testid="refused-item"]').map((item) => item.text())
    expect(items[0]).toContain('事件已被他人处理')
    expect(items[1]).toContain('流程不允许此操作')
    expect(items[2]).toContain('处置时限')
    expect(items[2]).not.toContain('deadlineAt')
  })
})

describe('RecordTimeline', () => {
  it('lists every step with who, when, the status names and the fields changed', async () => {
    await start(LEADER, { online: true })
    const id = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b'
    const entry = (
      n: number,
      userName: string | null,
      fields: Record<string, unknown>,
      status?: TimelineEntry['status'],
    ) => ({
      stamp: `${NOW + n}:0000:device0${n}`,
      at: NOW + n * HOUR,
      receivedAt: NOW + n * HOUR,
      userId: `u${n}`,
      userName,
      deviceId: `device-${n}-abcdef`,
      fields,
      ...(status ? { status } : {}),
      deleted: false,
    })
    timelineAnswer = {
      id,
      kind: 'incident',
      entries: [
        entry(1, '李网格', { status: 'reported', description: '溪边垃圾' }, { from: null, to: 'reported' }),
        entry(2, '王站长', { status: 'accepted', acceptedAt: NOW }, { from: 'reported', to: 'accepted' }),
        entry(3, null, { deadlineAt: NOW + DAY_MS }),
      ],
    }
    const { wrapper } = mountWith(RecordTimeline, env, { props: { kind: 'incident', recordId: id } })
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid="timeline-entry"]')).toHaveLength(3), {
      timeout: 15_000,
    })
    const entries = wrapper.findAll('[data-testid="timeline-entry"]')
    // Newest first.
    expect(entries[0]!.text()).toContain('（已删除的账号）')
    expect(entries[0]!.get('[data-testid="timeline-fields"]').text()).toBe('修改：处置时限')
    expect(entries[1]!.get('[data-testid="timeline-who"]').text()).toBe('王站长')
    expect(entries[1]!.get('[data-testid="timeline-status"]').text()).toBe('已上报 → 已受理')
    expect(entries[1]!.get('[data-testid="timeline-fields"]').text()).toBe('修改：受理时间')
    expect(entries[2]!.get('[data-testid="timeline-status"]').text()).toBe('新建 → 已上报')
    expect(entries[2]!.text()).toContain('device-1-abc')
  })

  it('says the history needs a connection when offline', async () => {
    await start(LEADER)
    const { wrapper } = mountWith(RecordTimeline, env, {
      props: { kind: 'incident', recordId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b' },
    })
    await vi.waitFor(() => expect(wrapper.find('[data-testid="timeline-problem"]').exists()).toBe(true), {
      timeout: 15_000,
    })
    expect(wrapper.get('[data-testid="timeline-problem"]').text()).toContain('联网后可查看处理记录')
  })
})
