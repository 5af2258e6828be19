/**
 * Display preferences of this phone (large text, high contrast): kept in localStorage and applied as classes on
 * <html> before the first paint, so every screen, dialog and toast follows them. Text sizes are rem, so the system's
 * own font size setting scales the app too; large text adds to it.
 */
import { ref, watch } from 'vue'

export const DISPLAY_STORAGE_KEY = 'gridpatrol.display'
export const LARGE_TEXT_CLASS = 'gp-large-text'
export const HIGH_CONTRAST_CLASS = 'gp-high-contrast'

export interface DisplayPrefs {
  largeText: boolean
  highContrast: boolean
}

export function readDisplayPrefs(): DisplayPrefs {
  try {
    const stored = JSON.parse(
      globalThis.localStorage?.getItem(DISPLAY_STORAGE_KEY) ?? '{}',
    ) as Partial<DisplayPrefs>
    return { largeText: stored.largeText === true, highContrast: stored.highContrast === true }
  } catch {
    return { largeText: false, highContrast: false }
  }
}

export function applyDisplayPrefs(prefs: DisplayPrefs, root: HTMLElement = document.documentElement): void {
  root.classList.toggle(LARGE_TEXT_CLASS, prefs.largeText)
  root.classList.toggle(HIGH_CONTRAST_CLASS, prefs.highContrast)
}

/** Reactive preferences: changing them applies and stores them at once. */
export function useDisplayPrefs() {
  const prefs = ref<DisplayPrefs>(readDisplayPrefs())
  watch(
    prefs,
    (next) => {
      applyDisplayPrefs(next)
      try {
        globalThis.localStorage?.setItem(DISPLAY_STORAGE_KEY, JSON.stringify(next))
      } catch {
        // storage blocked: the choice lasts for this session
      }
    },
    { deep: true },
  )
  return prefs
}
