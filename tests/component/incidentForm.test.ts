import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { enableAutoUnmount, type VueWrapper } from '@vue/test-utils'
import { incidentSchema } from '#shared/schemas/records.ts'
import IncidentForm from '../../src/components/incident/IncidentForm.vue'
import { useRecordsStore } from '../../src/stores/useRecordsStore.ts'
import { GRID_A, GRID_B, mountWith, settle, setupEnv, type TestEnv } from './harness.ts'
import { errorOf, fill, gridsShown } from './formHelpers.ts'

const REPORTED_AT = 1_765_432_100_000

// Unmount each test's components (their draft timers and stores) before the next test's Pinia is active.
enableAutoUnmount(afterEach)

let env: TestEnv
beforeEach(async () => {
  env = await setupEnv()
})
afterEach(async () => {
  vi.useRealTimers()
  document.body.innerHTML = ''
  await env.close()
})

async function mountForm(props: Record<string, unknown> = {}) {
  const { wrapper } = mountWith(IncidentForm, env, { props })
  await gridsShown(wrapper)
  return wrapper as VueWrapper
}

describe('IncidentForm', () => {
  it('requires a category and a description', async () => {
    const wrapper = await mountForm()
    const create = vi.spyOn(useRecordsStore(env.pinia), 'create')
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await settle()
    expect(errorOf(wrapper, 'category')).toBe('请选择')
    expect(errorOf(wrapper, 'description')).toBe('不能为空')
    expect(errorOf(wrapper, 'urgency')).toBe('')
    expect(create).not.toHaveBeenCalled()
  })

  it("reports with the report's fields of the schema (no workflow step's): status 'reported', reportedAt now", async () => {
    const wrapper = await mountForm()
    const create = vi.spyOn(useRecordsStore(env.pinia), 'create')
    await wrapper.get('[data-testid="field-category-safety"]').trigger('click')
    await wrapper.get('[data-testid="field-urgency-urgent"]').trigger('click')
    await fill(wrapper, 'description', '村口电线杆倾斜，有倒塌危险')
    vi.useFakeTimers({ toFake: ['Date'], now: REPORTED_AT })
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    vi.useRealTimers()
    await settle()
    await vi.waitFor(() => expect(create).toHaveBeenCalledTimes(1), { timeout: 15_000 })
    const [kind, fields] = create.mock.calls[0]!
    expect(kind).toBe('incident')
    // Every field is the schema's; the steps of the loop (accept, dispatch, ...) write the others.
    expect(Object.keys(fields).filter((field) => !(field in incidentSchema.shape))).toEqual([])
    expect(fields).toEqual({
      gridId: GRID_A,
      category: 'safety',
      subcategory: null,
      description: '村口电线杆倾斜，有倒塌危险',
      location: null,
      urgency: 'urgent',
      status: 'reported',
      reportedAt: REPORTED_AT,
      householdId: null,
      placeId: null,
    })
  })

  it('links the household it was reported for and starts in its grid', async () => {
    const householdId = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b'
    const wrapper = await mountForm({ presets: { householdId, gridId: GRID_B, concernLabel: '横山村3号' } })
    const create = vi.spyOn(useRecordsStore(env.pinia), 'create')
    expect(wrapper.text()).toContain('横山村3号')
    await wrapper.get('[data-testid="field-category-dispute"]').trigger('click')
    await fill(wrapper, 'description', '邻里宅基地纠纷')
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await settle()
    await vi.waitFor(() => expect(create).toHaveBeenCalledTimes(1), { timeout: 15_000 })
    expect(create.mock.calls[0]![1]).toMatchObject({ householdId, placeId: null, gridId: GRID_B })
  })

  it('edits keep the status and report time and send only the changed description', async () => {
    const records = useRecordsStore(env.pinia)
    const id = await records.create('incident', {
      gridId: GRID_A,
      category: 'environment',
      description: '垃圾堆放',
      urgency: 'normal',
      status: 'accepted',
      reportedAt: REPORTED_AT,
    })
    const wrapper = await mountForm({ record: await records.get(id) })
    const update = vi.spyOn(records, 'update')
    expect(wrapper.get('[data-status]').text()).toBe('已受理')
    await fill(wrapper, 'description', '河边垃圾堆放')
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await settle()
    expect(update).toHaveBeenCalledWith('incident', id, { description: '河边垃圾堆放' })
  })
})
