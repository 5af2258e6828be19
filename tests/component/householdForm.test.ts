import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { enableAutoUnmount, type VueWrapper } from '@vue/test-utils'
import { householdSchema } from '#shared/schemas/records.ts'
import HouseholdForm from '../../src/components/household/HouseholdForm.vue'
import { useRecordsStore } from '../../src/stores/useRecordsStore.ts'
import { GRID_A, GRID_B, mountWith, settle, setupEnv, type TestEnv } from './harness.ts'
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

async function mountForm(props: Record<string, unknown> = {}) {
  const { wrapper } = mountWith(HouseholdForm, env, { props })
  await gridsShown(wrapper)
  return wrapper as VueWrapper
}

describe('HouseholdForm', () => {
  it('shows the Chinese message next to each missing required field and saves nothing', async () => {
    const wrapper = await mountForm()
    const create = vi.spyOn(useRecordsStore(env.pinia), 'create')
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await settle()
    expect(errorOf(wrapper, 'address')).toBe('不能为空')
    expect(errorOf(wrapper, 'headName')).toBe('不能为空')
    expect(errorOf(wrapper, 'housing')).toBe('请选择')
    expect(errorOf(wrapper, 'houseNumber')).toBe('')
    expect(create).not.toHaveBeenCalled()
  })

  it('refuses a malformed phone number next to the phone field', async () => {
    const wrapper = await mountForm()
    const create = vi.spyOn(useRecordsStore(env.pinia), 'create')
    await fill(wrapper, 'address', '递铺街道横山村12号')
    await fill(wrapper, 'headName', '王建国')
    await wrapper.get('[data-testid="field-housing-owned"]').trigger('click')
    await fill(wrapper, 'headPhone', '1381234')
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await settle()
    expect(errorOf(wrapper, 'headPhone')).toBe('手机号应为11位数字')
    expect(errorOf(wrapper, 'address')).toBe('')
    expect(create).not.toHaveBeenCalled()
  })

  it("creates the record with exactly the schema's fields, defaulting to the user's first grid", async () => {
    const wrapper = await mountForm()
    const records = useRecordsStore(env.pinia)
    const create = vi.spyOn(records, 'create')
    await fill(wrapper, 'address', '  递铺街道横山村12号 ')
    await fill(wrapper, 'headName', '王建国')
    await wrapper.get('[data-testid="field-housing-rented"]').trigger('click')
    await fill(wrapper, 'headPhone', '13812345678')
    await fill(wrapper, 'memberCount', '4')
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await settle()

    await vi.waitFor(() => expect(create).toHaveBeenCalledTimes(1), { timeout: 15_000 })
    const [kind, fields] = create.mock.calls[0]!
    expect(kind).toBe('household')
    expect(Object.keys(fields).sort()).toEqual(Object.keys(householdSchema.shape).sort())
    expect(fields).toEqual({
      gridId: GRID_A,
      address: '递铺街道横山村12号',
      houseNumber: null,
      location: null,
      housing: 'rented',
      headName: '王建国',
      headPhone: '13812345678',
      memberCount: 4,
      notes: null,
    })
    const id = (await create.mock.results[0]!.value) as string
    await vi.waitFor(() => expect(wrapper.emitted('saved')).toEqual([[id, 'created']]), { timeout: 15_000 })
    expect((await records.get(id))?.fields.headName).toBe('王建国')
  })

  it('lets the user pick another of their grids', async () => {
    const wrapper = await mountForm()
    const create = vi.spyOn(useRecordsStore(env.pinia), 'create')
    await wrapper.get(`[data-testid="field-gridId-${GRID_B}"]`).trigger('click')
    await fill(wrapper, 'address', '横山村8号')
    await fill(wrapper, 'headName', '赵大')
    await wrapper.get('[data-testid="field-housing-owned"]').trigger('click')
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await settle()
    await vi.waitFor(() => expect(create).toHaveBeenCalledTimes(1), { timeout: 15_000 })
    expect(create.mock.calls[0]![1].gridId).toBe(GRID_B)
  })

  it('sends only the fields that changed when editing', async () => {
    const records = useRecordsStore(env.pinia)
    const id = await records.create('household', {
      gridId: GRID_A,
      address: '横山村3号',
      housing: 'owned',
      headName: '钱多',
      headPhone: '13900001111',
    })
    const record = await records.get(id)
    const wrapper = await mountForm({ record })
    const update = vi.spyOn(records, 'update')
    expect(wrapper.get<HTMLInputElement>('[data-testid="field-address"]').element.value).toBe('横山村3号')
    await fill(wrapper, 'headName', '钱少')
    await fill(wrapper, 'headPhone', '')
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await settle()
    await vi.waitFor(
      () => expect(update).toHaveBeenCalledWith('household', id, { headName: '钱少', headPhone: null }),
      {
        timeout: 15_000,
      },
    )
    await vi.waitFor(() => expect(wrapper.emitted('saved')).toEqual([[id, 'updated']]), { timeout: 15_000 })
  })
})
