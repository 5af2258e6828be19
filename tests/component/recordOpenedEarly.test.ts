import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { enableAutoUnmount } from '@vue/test-utils'
import RecordFormView from '../../src/views/RecordFormView.vue'
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

describe('a record opened by its link before the sync brought it', () => {
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
})
