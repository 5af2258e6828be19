import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import DisplaySettings from '../../src/components/settings/DisplaySettings.vue'
import StorageSettings from '../../src/components/settings/StorageSettings.vue'
import {
  DISPLAY_STORAGE_KEY,
  HIGH_CONTRAST_CLASS,
  LARGE_TEXT_CLASS,
  applyDisplayPrefs,
  readDisplayPrefs,
} from '../../src/components/settings/displayPrefs.ts'
import { mountWith, settle, setupEnv, type TestEnv } from './harness.ts'

let env: TestEnv
beforeEach(async () => {
  localStorage.clear()
  document.documentElement.className = ''
  env = await setupEnv()
})
afterEach(async () => {
  document.body.innerHTML = ''
  document.documentElement.className = ''
  localStorage.clear()
  await env.close()
})

const root = () => document.documentElement.classList

describe('display settings', () => {
  it('the large-text toggle enlarges the root text size class and is remembered for the next start', async () => {
    const { wrapper } = mountWith(DisplaySettings, env)
    await settle()
    expect(root().contains(LARGE_TEXT_CLASS)).toBe(false)
    await wrapper.get('[data-testid="large-text-toggle"]').trigger('click')
    await settle()
    expect(root().contains(LARGE_TEXT_CLASS)).toBe(true)
    expect(JSON.parse(localStorage.getItem(DISPLAY_STORAGE_KEY)!)).toMatchObject({ largeText: true })

    // The next start applies it before the first paint.
    document.documentElement.className = ''
    applyDisplayPrefs(readDisplayPrefs())
    expect(root().contains(LARGE_TEXT_CLASS)).toBe(true)

    await wrapper.get('[data-testid="large-text-toggle"]').trigger('click')
    await settle()
    expect(root().contains(LARGE_TEXT_CLASS)).toBe(false)
  })

  it('the high-contrast toggle sets its class independently', async () => {
    const { wrapper } = mountWith(DisplaySettings, env)
    await wrapper.get('[data-testid="high-contrast-toggle"]').trigger('click')
    await settle()
    expect(root().contains(HIGH_CONTRAST_CLASS)).toBe(true)
    expect(root().contains(LARGE_TEXT_CLASS)).toBe(false)
  })
})

describe('storage settings', () => {
  function fakeStorage(usage: number, quota: number, granted: boolean): StorageManager {
    return {
      estimate: vi.fn(() => Promise.resolve({ usage, quota })),
      persisted: vi.fn(() => Promise.resolve(false)),
      persist: vi.fn(() => Promise.resolve(granted)),
      getDirectory: vi.fn(),
    } as unknown as StorageManager
  }

  it('shows used of quota, asks for persistent storage and says whether it got it', async () => {
    const storage = fakeStorage(50 * 1024 ** 2, 1024 ** 3, true)
    const { wrapper } = mountWith(StorageSettings, env, { props: { storage } })
    await vi.waitFor(() =>
      expect(wrapper.get('[data-testid="storage-used"]').text()).toContain('已用 50.0 MB，共 1.0 GB'),
    )
    expect(storage.persist).toHaveBeenCalled()
    expect(wrapper.get('[data-testid="storage-persistent"]').text()).toContain('已开启')
    expect(wrapper.find('[data-testid="storage-warning"]').exists()).toBe(false)
  })

  it('warns when the quota is near', async () => {
    const storage = fakeStorage(900 * 1024 ** 2, 1024 ** 3, false)
    const { wrapper } = mountWith(StorageSettings, env, { props: { storage } })
    await vi.waitFor(() => expect(wrapper.find('[data-testid="storage-warning"]').exists()).toBe(true))
    expect(wrapper.get('[data-testid="storage-persistent"]').text()).toContain('未开启')
  })
})
