/**
 * vue-i18n in composition mode. Chinese first: zh-CN is the default and the fallback, English second.
 * The chosen locale lives in localStorage and is applied to <html lang> and to Vant's own strings too.
 */
import { computed } from 'vue'
import { createI18n, useI18n } from 'vue-i18n'
import { Locale as VantLocale } from 'vant'
import vantEnUS from 'vant/es/locale/lang/en-US'
import vantZhCN from 'vant/es/locale/lang/zh-CN'
import { zhCN, type MessageSchema } from './zh-CN.ts'
import { en } from './en.ts'
import { formatTime, type TimeStyle } from './formatTime.ts'

export const SUPPORTED_LOCALES = ['zh-CN', 'en'] as const
export type AppLocale = (typeof SUPPORTED_LOCALES)[number]
export const LOCALE_STORAGE_KEY = 'gridpatrol.locale'

export function isAppLocale(value: unknown): value is AppLocale {
  return typeof value === 'string' && (SUPPORTED_LOCALES as readonly string[]).includes(value)
}

function readStoredLocale(): AppLocale {
  try {
    const stored = globalThis.localStorage?.getItem(LOCALE_STORAGE_KEY)
    if (isAppLocale(stored)) return stored
  } catch {
    // storage blocked: fall through to the default
  }
  return 'zh-CN'
}

export function createAppI18n(locale: AppLocale = readStoredLocale()) {
  const i18n = createI18n<[MessageSchema], AppLocale, false>({
    legacy: false,
    locale,
    fallbackLocale: 'zh-CN',
    messages: { 'zh-CN': zhCN, en },
    missingWarn: false,
    fallbackWarn: false,
  })
  applyLocaleSideEffects(locale)
  return i18n
}

export type AppI18n = ReturnType<typeof createAppI18n>

function applyLocaleSideEffects(locale: AppLocale): void {
  if (locale === 'en') VantLocale.use('en-US', vantEnUS)
  else VantLocale.use('zh-CN', vantZhCN)
  if (typeof document !== 'undefined') document.documentElement.lang = locale
}

/** Switch the language now and remember it on this device. */
export function setAppLocale(i18n: AppI18n, locale: AppLocale): void {
  switchLocale(i18n.global.locale, locale)
}

function switchLocale(target: { value: string }, locale: AppLocale): void {
  target.value = locale
  applyLocaleSideEffects(locale)
  try {
    globalThis.localStorage?.setItem(LOCALE_STORAGE_KEY, locale)
  } catch {
    // storage blocked: the choice lasts for this session only
  }
}

/** The current locale and a setter for components (settings, login). */
export function useAppLocale() {
  const { locale } = useI18n({ useScope: 'global' })
  return {
    locale: computed<AppLocale>(() => (isAppLocale(locale.value) ? locale.value : 'zh-CN')),
    setLocale: (next: AppLocale) => switchLocale(locale, next),
  }
}

/** A date/time formatter in the current language, for templates: `d(ms, 'short' | 'long')` (see formatTime.ts). */
export function useFormatTime(): (value: number | Date, style: TimeStyle) => string {
  const { locale } = useI18n({ useScope: 'global' })
  return (value, style) => formatTime(value, style, isAppLocale(locale.value) ? locale.value : 'zh-CN')
}
