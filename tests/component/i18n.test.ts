import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { defineComponent, h } from 'vue'
import { Locale as VantLocale } from 'vant'
import LocaleSwitch from '../../src/components/settings/LocaleSwitch.vue'
import SyncStatusCard from '../../src/components/sync/SyncStatusCard.vue'
import { LOCALE_STORAGE_KEY, createAppI18n } from '../../src/i18n/index.ts'
import { zhCN } from '../../src/i18n/zh-CN.ts'
import { en } from '../../src/i18n/en.ts'
import { mountWith, settle, setupEnv, type TestEnv } from './harness.ts'

let env: TestEnv
beforeEach(async () => {
  localStorage.clear()
  env = await setupEnv()
})
afterEach(async () => {
  document.body.innerHTML = ''
  localStorage.clear()
  createAppI18n('zh-CN')
  await env.close()
})

function keysOf(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix]
  return Object.entries(value).flatMap(([key, inner]) => keysOf(inner, prefix ? `${prefix}.${key}` : key))
}

const Page = defineComponent(() => () => h('div', [h(LocaleSwitch), h(SyncStatusCard)]))

describe('i18n', () => {
  it('starts in Chinese, switches to English and back, and remembers the choice', async () => {
    const { wrapper } = mountWith(Page, env)
    await settle()
    expect(document.documentElement.lang).toBe('zh-CN')
    expect(wrapper.get('[data-testid="sync-now"]').text()).toBe('立即同步')
    expect(wrapper.get('[data-testid="unsynced-count"]').text()).toBe('未同步 0 条')

    await wrapper.get('[data-testid="locale-en"]').trigger('click')
    await settle()
    expect(wrapper.get('[data-testid="sync-now"]').text()).toBe('Sync now')
    expect(wrapper.get('[data-testid="unsynced-count"]').text()).toBe('0 unsynced')
    expect(localStorage.getItem(LOCALE_STORAGE_KEY)).toBe('en')
    expect(document.documentElement.lang).toBe('en')
    // Vant's own strings (dialog buttons…) follow.
    expect(VantLocale.messages().confirm).toBe('Confirm')

    // A fresh start (next app launch) reads the stored choice.
    expect(createAppI18n().global.locale.value).toBe('en')

    await wrapper.get('[data-testid="locale-zh-CN"]').trigger('click')
    await settle()
    expect(wrapper.get('[data-testid="sync-now"]').text()).toBe('立即同步')
    expect(localStorage.getItem(LOCALE_STORAGE_KEY)).toBe('zh-CN')
    expect(VantLocale.messages().confirm).toBe('确认')
  })

  it('ignores an unknown stored locale and falls back to Chinese', () => {
    localStorage.setItem(LOCALE_STORAGE_KEY, 'fr')
    expect(createAppI18n().global.locale.value).toBe('zh-CN')
  })

  it('has the same keys in English as in Chinese, and no empty string', () => {
    expect(keysOf(en).sort()).toEqual(keysOf(zhCN).sort())
    const values = [...keysOf(zhCN), ...keysOf(en)]
    expect(values.length).toBeGreaterThan(100)
    const empty = (obj: object) =>
      keysOf(obj).filter(
        (k) => k.split('.').reduce<unknown>((o, p) => (o as Record<string, unknown>)[p], obj) === '',
      )
    expect(empty(zhCN)).toEqual([])
    expect(empty(en)).toEqual([])
  })
})
