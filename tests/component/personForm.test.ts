import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { enableAutoUnmount, type VueWrapper } from '@vue/test-utils'
import { idCheckCharacter } from '#shared/domain/idNumber.ts'
import PersonForm from '../../src/components/person/PersonForm.vue'
import { useRecordsStore } from '../../src/stores/useRecordsStore.ts'
import { GRID_A, mountWith, settle, setupEnv, type TestEnv } from './harness.ts'
import { errorOf, fill } from './formHelpers.ts'

const HOUSEHOLD = '0190a000-0000-7000-8000-000000000001'
/** A valid ID number: a man born 1960-05-01 (17th digit odd). */
const FIRST17 = '33052319600501001'
const VALID_ID = FIRST17 + idCheckCharacter(FIRST17)
const wrongCheck = (id: string) => id.slice(0, 17) + (id[17] === '0' ? '1' : '0')

// Saving goes through several IndexedDB round trips; on a loaded 2-core CI box the default 5 s is tight.
vi.setConfig({ testTimeout: 20_000 })

// Unmount each test's components, so that none of them outlives its database (and its Pinia).
enableAutoUnmount(afterEach)

let env: TestEnv
beforeEach(async () => {
  env = await setupEnv()
})
afterEach(async () => {
  document.body.innerHTML = ''
  await env.close()
})

async function mountForm(props: Record<string, unknown> = { householdId: HOUSEHOLD, gridId: GRID_A }) {
  const { wrapper } = mountWith(PersonForm, env, { props })
  await settle()
  return wrapper as VueWrapper
}

async function fillValidMember(wrapper: VueWrapper) {
  await fill(wrapper, 'name', '王秀英')
  await fill(wrapper, 'idNumber', VALID_ID)
  await wrapper.get('[data-testid="field-relation-spouse"]').trigger('click')
}

/** Wait (polling with plain timers) until a save went through its IndexedDB round trips. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20))
}

/**
 * The members on the device. Assertions read the database and the `saved` event, not a spy on the store's action:
 * a spy on a Pinia setup-store action does not always see calls made through the form's own store reference.
 */
const people = async () => (await env.db.records.toArray()).filter((r) => r.kind === 'person')
const savedId = (wrapper: VueWrapper) => (wrapper.emitted('saved')?.[0]?.[0] as string | undefined) ?? null

const value = (wrapper: VueWrapper, name: string) =>
  wrapper.get<HTMLInputElement>(`[data-testid="field-${name}"]`).element.value
const checked = (wrapper: VueWrapper, testid: string) =>
  wrapper.get(`[data-testid="${testid}"] .van-radio__icon`).classes().includes('van-radio__icon--checked')

describe('PersonForm', () => {
  it('shows the Chinese message for a wrong check digit next to the ID field and saves nothing', async () => {
    const wrapper = await mountForm()
    await fill(wrapper, 'idNumber', wrongCheck(VALID_ID))
    expect(errorOf(wrapper, 'idNumber')).toBe('身份证号校验位不正确')
    await fill(wrapper, 'name', '王秀英')
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await settle()
    expect(errorOf(wrapper, 'idNumber')).toBe('身份证号校验位不正确')
    expect(wrapper.emitted('saved')).toBeUndefined()
    expect(await people()).toHaveLength(0)
  })

  it('fills in the birth date and gender from a valid ID number', async () => {
    const wrapper = await mountForm()
    await fill(wrapper, 'idNumber', VALID_ID)
    expect(errorOf(wrapper, 'idNumber')).toBe('')
    expect(value(wrapper, 'birthDate')).toBe('1960-05-01')
    expect(checked(wrapper, 'field-gender-male')).toBe(true)
    expect(wrapper.find('[data-testid="id-autofilled"]').exists()).toBe(true)
  })

  it('refuses a birth date or gender changed away from the ID number, next to those fields', async () => {
    const wrapper = await mountForm()
    await fillValidMember(wrapper)
    await fill(wrapper, 'birthDate', '1961-05-01')
    await wrapper.get('[data-testid="field-gender-female"]').trigger('click')
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await settle()
    expect(errorOf(wrapper, 'birthDate')).toBe('出生日期与身份证号不一致')
    expect(errorOf(wrapper, 'gender')).toBe('性别与身份证号不一致')
    expect(wrapper.emitted('saved')).toBeUndefined()
    expect(await people()).toHaveLength(0)
  })

  it('asks for the disability grade only with 残疾人, and requires it then', async () => {
    const wrapper = await mountForm()
    await fillValidMember(wrapper)
    expect(wrapper.find('[data-testid="field-disabilityGrade"]').exists()).toBe(false)
    await wrapper.get('[data-testid="field-tags-disabled"]').trigger('click')
    expect(wrapper.find('[data-testid="field-disabilityGrade"]').exists()).toBe(true)
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await settle()
    expect(errorOf(wrapper, 'disabilityGrade')).toBe('残疾人需填写残疾等级（1–4级）')
    expect(wrapper.emitted('saved')).toBeUndefined()
    expect(await people()).toHaveLength(0)

    await wrapper.get('[data-testid="field-disabilityGrade-2"]').trigger('click')
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await until(() => savedId(wrapper) !== null)
    const [saved] = await people()
    expect(saved?.fields).toMatchObject({ tags: ['disabled'], disabilityGrade: 2 })
  })

  it('creates the member in its household and grid; a grade is dropped once 残疾人 is unticked', async () => {
    const wrapper = await mountForm()
    const records = useRecordsStore(env.pinia)
    await fillValidMember(wrapper)
    await fill(wrapper, 'phone', '13812345678')
    await wrapper.get('[data-testid="field-tags-disabled"]').trigger('click')
    await wrapper.get('[data-testid="field-disabilityGrade-3"]').trigger('click')
    await wrapper.get('[data-testid="field-tags-disabled"]').trigger('click')
    await wrapper.get('[data-testid="field-tags-left_behind_elderly"]').trigger('click')
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await until(() => savedId(wrapper) !== null)
    const id = savedId(wrapper)!
    const saved = await records.get(id)
    expect(saved?.kind).toBe('person')
    expect(saved?.fields).toEqual({
      gridId: GRID_A,
      householdId: HOUSEHOLD,
      name: '王秀英',
      gender: 'male',
      birthDate: '1960-05-01',
      idNumber: VALID_ID,
      phone: '13812345678',
      relation: 'spouse',
      populationType: 'registered',
      tags: ['left_behind_elderly'],
      disabilityGrade: null,
      notes: null,
    })
    expect(await people()).toHaveLength(1)
  })
})
