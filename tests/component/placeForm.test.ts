import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { enableAutoUnmount, type VueWrapper } from '@vue/test-utils'
import { placeSchema } from '#shared/schemas/records.ts'
import PlaceForm from '../../src/components/place/PlaceForm.vue'
import { useRecordsStore } from '../../src/stores/useRecordsStore.ts'
import { GRID_A, mountWith, settle, setupEnv, type TestEnv } from './harness.ts'
import { errorOf, fill, gridsShown } from './formHelpers.ts'

// Unmount each test's components (their draft timers and stores) before the next test's Pinia is active.
enableAutoUnmount(afterEach)

let env: TestEnv
beforeEach(async () => {
  env = await setupEnv()
})
afterEach(async () => {
  document.body.innerHTML = ''
  await env.close()
})

async function mountForm() {
  const { wrapper } = mountWith(PlaceForm, env)
  await gridsShown(wrapper)
  return wrapper as VueWrapper
}

describe('PlaceForm', () => {
  it('requires type, name and address, in Chinese next to each field', async () => {
    const wrapper = await mountForm()
    const create = vi.spyOn(useRecordsStore(env.pinia), 'create')
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await settle()
    expect(errorOf(wrapper, 'type')).toBe('请选择')
    expect(errorOf(wrapper, 'name')).toBe('不能为空')
    expect(errorOf(wrapper, 'address')).toBe('不能为空')
    // Risk level starts at 低 (low), so it is not missing.
    expect(errorOf(wrapper, 'riskLevel')).toBe('')
    expect(create).not.toHaveBeenCalled()
  })

  it('refuses a contact phone that is not 11 digits', async () => {
    const wrapper = await mountForm()
    await wrapper.get('[data-testid="field-type-school"]').trigger('click')
    await fill(wrapper, 'name', '横山小学')
    await fill(wrapper, 'address', '横山村学校路1号')
    await fill(wrapper, 'contactPhone', '0572-123')
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await settle()
    expect(errorOf(wrapper, 'contactPhone')).toBe('手机号应为11位数字')
  })

  it("creates the place with exactly the schema's fields", async () => {
    const wrapper = await mountForm()
    const create = vi.spyOn(useRecordsStore(env.pinia), 'create')
    await wrapper.get('[data-testid="field-type-hazard"]').trigger('click')
    await wrapper.get('[data-testid="field-riskLevel-high"]').trigger('click')
    await fill(wrapper, 'name', '山塘水库')
    await fill(wrapper, 'address', '横山村后山')
    await fill(wrapper, 'contactName', '周水')
    await fill(wrapper, 'contactPhone', '13700001234')
    await fill(wrapper, 'notes', '汛期每日巡查')
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await settle()
    await vi.waitFor(() => expect(create).toHaveBeenCalledTimes(1), { timeout: 15_000 })
    const [kind, fields] = create.mock.calls[0]!
    expect(kind).toBe('place')
    expect(Object.keys(fields).sort()).toEqual(Object.keys(placeSchema.shape).sort())
    expect(fields).toEqual({
      gridId: GRID_A,
      type: 'hazard',
      name: '山塘水库',
      address: '横山村后山',
      location: null,
      contactName: '周水',
      contactPhone: '13700001234',
      riskLevel: 'high',
      notes: '汛期每日巡查',
    })
  })
})
