import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { enableAutoUnmount } from '@vue/test-utils'
import RecordFormView from '../../src/views/RecordFormView.vue'
import PersonForm from '../../src/components/person/PersonForm.vue'
import IncidentForm from '../../src/components/incident/IncidentForm.vue'
import { useRecordsStore } from '../../src/stores/useRecordsStore.ts'
import { GRID_A, NOW, appRouter, mountWith, settle, setupEnv, type TestEnv } from './harness.ts'

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

describe('a record form opened by a link: before the sync brought it, or right after another link', () => {
  it('shows 未找到 at first and the record once a sync completes', async () => {
    const id = '01900000-0000-7000-8000-00000000abcd'
    const router = await appRouter(`/records/household/${id}`)
    const { wrapper } = mountWith(RecordFormView, env, { props: { kind: 'household', id }, router })
    await vi.waitFor(() => expect(wrapper.find('[data-testid="record-missing"]').exists()).toBe(true))

    // The record lands in the database (as a pull page would write it); nothing shows it until the sync ends.
    const created = await useRecordsStore(env.pinia).create('household', {
      gridId: GRID_A,
      address: '横山村8号',
      housing: 'owned',
      headName: '早开的户',
    })
    await env.db.records.put({ ...(await env.db.records.get(created))!, id })
    await settle()
    expect(wrapper.find('[data-testid="record-missing"]').exists()).toBe(true)

    await env.db.setMeta('lastSyncAt', NOW)
    await vi.waitFor(() => expect(wrapper.find('[data-testid="record-missing"]').exists()).toBe(false))
    await vi.waitFor(() =>
      expect((wrapper.get('input[data-testid="field-headName"]').element as HTMLInputElement).value).toBe(
        '早开的户',
      ),
    )
  })

  /**
   * Two households, the first one's read held back until `releaseFirst` (a slow read: one link tapped after another,
   * the first answering last).
   */
  async function twoHouseholdsFirstHeld() {
    const records = useRecordsStore(env.pinia)
    const household = (headName: string) => ({
      gridId: GRID_A,
      address: '横山村8号',
      housing: 'owned',
      headName,
    })
    const first = await records.create('household', household('先点的户'))
    const second = await records.create('household', household('后点的户'))
    const get = records.get
    let releaseFirst = () => {}
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve))
    vi.spyOn(records, 'get').mockImplementation(async (id) => {
      if (id === first) await firstHeld
      return get(id)
    })
    return { first, second, releaseFirst }
  }

  it('shows the record last opened when an earlier one answers after it', async () => {
    const { first, second, releaseFirst } = await twoHouseholdsFirstHeld()
    const router = await appRouter(`/records/household/${first}`)
    const { wrapper } = mountWith(RecordFormView, env, { props: { kind: 'household', id: first }, router })
    await wrapper.setProps({ kind: 'household', id: second })
    const headName = () =>
      (wrapper.find('input[data-testid="field-headName"]').element as HTMLInputElement | undefined)?.value
    await vi.waitFor(() => expect(headName()).toBe('后点的户'))
    releaseFirst()
    await settle()
    expect(headName()).toBe('后点的户')
  })

  it('hangs a new member off the household named last when an earlier one answers after it', async () => {
    const { first, second, releaseFirst } = await twoHouseholdsFirstHeld()
    const router = await appRouter(`/records/person/new?householdId=${first}`)
    const { wrapper } = mountWith(RecordFormView, env, { props: { kind: 'person' }, router })
    await router.push(`/records/person/new?householdId=${second}`)
    const parentOfForm = () => wrapper.findComponent(PersonForm).props('householdId') as string | undefined
    await vi.waitFor(() => expect(parentOfForm()).toBe(second))
    releaseFirst()
    await settle()
    expect(parentOfForm()).toBe(second)
  })

  it('links an incident being reported to the household named last when an earlier one answers after it', async () => {
    const { first, second, releaseFirst } = await twoHouseholdsFirstHeld()
    const router = await appRouter(`/records/incident/new?householdId=${first}`)
    const { wrapper } = mountWith(RecordFormView, env, { props: { kind: 'incident' }, router })
    await router.push(`/records/incident/new?householdId=${second}`)
    const linked = () =>
      (wrapper.findComponent(IncidentForm).props('presets') as { householdId?: string }).householdId
    await vi.waitFor(() => expect(linked()).toBe(second))
    releaseFirst()
    await settle()
    expect(linked()).toBe(second)
  })
})
