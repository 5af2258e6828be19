import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { enableAutoUnmount, type VueWrapper } from '@vue/test-utils'
import { idCheckCharacter } from '#shared/domain/idNumber.ts'
import HouseholdForm from '../../src/components/household/HouseholdForm.vue'
import PersonForm from '../../src/components/person/PersonForm.vue'
import { useRecordsStore } from '../../src/stores/useRecordsStore.ts'
import { GRID_A, mountWith, settle, setupEnv, type TestEnv } from './harness.ts'
import { fill, gridsShown } from './formHelpers.ts'

const FIRST17 = '33052319600501001'
const VALID_ID = FIRST17 + idCheckCharacter(FIRST17)

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

async function mountHousehold() {
  const { wrapper } = mountWith(HouseholdForm, env, { props: {} })
  await gridsShown(wrapper)
  await settle()
  return wrapper as VueWrapper
}

const inputValue = (wrapper: VueWrapper, name: string) =>
  wrapper.get<HTMLInputElement>(`[data-testid="field-${name}"]`).element.value

describe('drafts', () => {
  it('restores a half-filled form after it was closed (a reload) with the notice 已恢复未保存的草稿', async () => {
    const first = await mountHousehold()
    expect(first.find('[data-testid="draft-restored"]').exists()).toBe(false)
    await fill(first, 'address', '横山村18号')
    await fill(first, 'headName', '陈阿婆')
    first.unmount() // leaving the page writes the pending draft at once
    await vi.waitFor(async () => expect(await env.db.drafts.get('household:new')).toBeTruthy())

    const second = await mountHousehold()
    await vi.waitFor(() => expect(second.find('[data-testid="draft-restored"]').exists()).toBe(true))
    expect(second.get('[data-testid="draft-restored"]').text()).toContain('已恢复未保存的草稿')
    expect(inputValue(second, 'address')).toBe('横山村18号')
    expect(inputValue(second, 'headName')).toBe('陈阿婆')
  })

  it('saves the draft as the user types, and clears it once the record is saved', async () => {
    const wrapper = await mountHousehold()
    await fill(wrapper, 'address', '横山村20号')
    await vi.waitFor(
      async () =>
        expect((await env.db.drafts.get('household:new'))?.fields).toMatchObject({ address: '横山村20号' }),
      { timeout: 15_000 },
    )
    await fill(wrapper, 'headName', '周大')
    await wrapper.get('[data-testid="field-housing-owned"]').trigger('click')
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await vi.waitFor(() => expect(wrapper.emitted('saved')).toHaveLength(1), { timeout: 15_000 })
    await vi.waitFor(async () => expect(await env.db.drafts.get('household:new')).toBeUndefined())
  })

  it('discarding the restored draft goes back to the empty form and forgets it', async () => {
    const first = await mountHousehold()
    await fill(first, 'address', '横山村21号')
    first.unmount()
    await vi.waitFor(async () => expect(await env.db.drafts.get('household:new')).toBeTruthy())
    const second = await mountHousehold()
    await vi.waitFor(() => expect(second.find('[data-testid="draft-discard"]').exists()).toBe(true))
    await second.get('[data-testid="draft-discard"]').trigger('click')
    await settle()
    expect(inputValue(second, 'address')).toBe('')
    expect(second.find('[data-testid="draft-restored"]').exists()).toBe(false)
    await vi.waitFor(async () => expect(await env.db.drafts.get('household:new')).toBeUndefined())
  })
})

describe('duplicate warning', () => {
  const HOUSEHOLD = '0190a000-0000-7000-8000-000000000001'
  const member = {
    gridId: GRID_A,
    householdId: HOUSEHOLD,
    name: '王秀英',
    gender: 'male',
    birthDate: '1960-05-01',
    idNumber: VALID_ID,
    relation: 'head',
    populationType: 'registered',
  }

  async function fillSameMember() {
    const { wrapper } = mountWith(PersonForm, env, { props: { householdId: HOUSEHOLD, gridId: GRID_A } })
    await settle()
    await fill(wrapper as VueWrapper, 'name', '王秀英')
    await fill(wrapper as VueWrapper, 'idNumber', VALID_ID)
    await wrapper.get('[data-testid="field-relation-spouse"]').trigger('click')
    return wrapper as VueWrapper
  }

  const dialog = () => document.querySelector<HTMLElement>('.gp-duplicate-dialog')
  const visible = (el: HTMLElement | null) => el !== null && el.style.display !== 'none'

  // One test for both buttons: Vant's dialog is a singleton that the DOM clean-up between tests would detach.
  it('warns before saving a member with the same ID number: 查看已有 saves nothing, 仍然保存 saves', async () => {
    const records = useRecordsStore(env.pinia)
    await records.create('person', member)
    const wrapper = await fillSameMember()
    // Counted in the database, not with a spy on the store action (see personForm.test.ts).
    const people = async () => (await env.db.records.toArray()).filter((r) => r.kind === 'person').length

    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await vi.waitFor(() => expect(visible(dialog())).toBe(true), { timeout: 15_000 })
    expect(dialog()!.textContent).toContain('身份证号相同')
    const cancel = dialog()!.querySelector<HTMLElement>('.van-dialog__cancel')!
    expect(cancel.textContent).toContain('查看已有')
    cancel.click()
    await settle()
    expect(wrapper.emitted('saved')).toBeUndefined()
    expect(await people()).toBe(1)

    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await vi.waitFor(() => expect(visible(dialog())).toBe(true), { timeout: 15_000 })
    const confirm = dialog()!.querySelector<HTMLElement>('.van-dialog__confirm')!
    expect(confirm.textContent).toContain('仍然保存')
    confirm.click()
    await vi.waitFor(() => expect(wrapper.emitted('saved')).toHaveLength(1), { timeout: 15_000 })
    expect(await people()).toBe(2)
  })

  it('saves a member with a new ID number without asking', async () => {
    const wrapper = await fillSameMember()
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await vi.waitFor(() => expect(wrapper.emitted('saved')).toHaveLength(1), { timeout: 15_000 })
    expect(document.querySelector('.gp-duplicate-dialog')).toBeNull()
  })
})
