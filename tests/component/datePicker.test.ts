import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { enableAutoUnmount, type VueWrapper } from '@vue/test-utils'
import PersonForm from '../../src/components/person/PersonForm.vue'
import VisitForm from '../../src/components/visit/VisitForm.vue'
import { GRID_A, mountWith, settle, setupEnv, type TestEnv, WORKER } from './harness.ts'
import { fill } from './formHelpers.ts'

const HOUSEHOLD = '0190a000-0000-7000-8000-000000000001'

// Saving goes through several IndexedDB round trips; on a loaded 2-core CI box the default 5 s is tight.
vi.setConfig({ testTimeout: 20_000 })

enableAutoUnmount(afterEach)

let env: TestEnv
beforeEach(async () => {
  env = await setupEnv()
})
afterEach(async () => {
  document.body.innerHTML = ''
  await env.close()
})

const inputOf = (wrapper: VueWrapper, name: string) =>
  wrapper.get<HTMLInputElement>(`[data-testid="field-${name}"]`).element

/** The options of the open picker's columns (year, month, day), as their texts. */
function columns(name: string): HTMLElement[][] {
  const picker = document.body.querySelector(`[data-testid="field-${name}-picker"]`)
  if (!picker) return []
  return [...picker.querySelectorAll<HTMLElement>('.van-picker-column')].map((column) => [
    ...column.querySelectorAll<HTMLElement>('.van-picker-column__item'),
  ])
}

async function openPicker(wrapper: VueWrapper, name: string) {
  await wrapper.get(`[data-testid="field-${name}-pick"]`).trigger('click')
  await vi.waitFor(() => expect(columns(name)).toHaveLength(3), { timeout: 15_000 })
}

/** Tap the option reading `text` in each column in turn, then 确定. */
async function pick(name: string, parts: [string, string, string]) {
  for (const [index, text] of parts.entries()) {
    const option = columns(name)[index]!.find((item) => item.textContent?.trim() === text)
    expect(option, `option ${text}`).toBeDefined()
    option!.click()
    await settle()
  }
  const confirm = document.body.querySelector<HTMLButtonElement>('.van-picker__confirm')!
  expect(confirm.textContent?.trim()).toBe('确定')
  confirm.click()
  await settle()
}

const yearTexts = (name: string) => columns(name)[0]!.map((item) => item.textContent?.trim())

async function savedFields(wrapper: VueWrapper): Promise<Record<string, unknown>> {
  await vi.waitFor(() => expect(wrapper.emitted('saved')).toHaveLength(1), { timeout: 15_000 })
  const record = await env.db.records.get(wrapper.emitted('saved')![0]![0] as string)
  return record!.fields
}

describe('date pickers', () => {
  it('person: the picked birth date reaches the draft and is saved; 1900 to this year only', async () => {
    const { wrapper } = mountWith(PersonForm, env, { props: { householdId: HOUSEHOLD, gridId: GRID_A } })
    await settle()
    await fill(wrapper, 'name', '王秀英')
    await wrapper.get('[data-testid="field-gender-female"]').trigger('click')
    await wrapper.get('[data-testid="field-relation-spouse"]').trigger('click')

    await openPicker(wrapper, 'birthDate')
    const years = yearTexts('birthDate')
    expect(years[0]).toBe('1900')
    expect(years.at(-1)).toBe(String(new Date().getFullYear()))
    await pick('birthDate', ['1975', '03', '12'])
    expect(inputOf(wrapper, 'birthDate').value).toBe('1975-03-12')

    await wrapper.get('[data-testid="form-save"]').trigger('click')
    expect(await savedFields(wrapper)).toMatchObject({ birthDate: '1975-03-12', gender: 'female' })
  })

  it('person: the picker opens on the typed date, and the date can be cleared', async () => {
    const { wrapper } = mountWith(PersonForm, env, { props: { householdId: HOUSEHOLD, gridId: GRID_A } })
    await settle()
    await fill(wrapper, 'birthDate', '1948-11-30')
    await openPicker(wrapper, 'birthDate')
    // Confirming at once keeps the typed day: the picker started on it.
    document.body.querySelector<HTMLButtonElement>('.van-picker__confirm')!.click()
    await settle()
    expect(inputOf(wrapper, 'birthDate').value).toBe('1948-11-30')

    await openPicker(wrapper, 'birthDate')
    document.body.querySelector<HTMLButtonElement>('[data-testid="field-birthDate-clear"]')!.click()
    await vi.waitFor(() => expect(inputOf(wrapper, 'birthDate').value).toBe(''), { timeout: 15_000 })
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await settle()
    expect(wrapper.emitted('saved')).toBeUndefined()
  })

  it('visit: the picked day is saved as that local day, and the picker stops at today', async () => {
    const { wrapper } = mountWith(VisitForm, env, {
      props: { target: { kind: 'household', id: HOUSEHOLD, gridId: GRID_A } },
    })
    await settle()
    await openPicker(wrapper, 'visitedAt')
    expect(yearTexts('visitedAt').at(-1)).toBe(String(new Date().getFullYear()))
    await pick('visitedAt', ['2024', '02', '29'])
    expect(inputOf(wrapper, 'visitedAt').value).toBe('2024-02-29')

    await wrapper.get('[data-testid="form-save"]').trigger('click')
    const fields = await savedFields(wrapper)
    const day = new Date(fields.visitedAt as number)
    expect([day.getFullYear(), day.getMonth() + 1, day.getDate()]).toEqual([2024, 2, 29])
    // Whoever records the visit is its visitor (走访人).
    expect(fields).toMatchObject({ visitorId: WORKER.id, visitorName: WORKER.displayName })
  })
})
