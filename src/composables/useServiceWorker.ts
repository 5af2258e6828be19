/**
 * Service worker registration with workbox-window, in production builds only (vite-plugin-pwa generates /sw.js with
 * `registerType: 'prompt'`: a new version waits until the user accepts).
 *
 * Invariant: updating never touches IndexedDB. Queued changes live there, not in the service worker's caches, so
 * accepting an update only sends SKIP_WAITING and reloads once the new worker controls the page.
 */
import { ref } from 'vue'
import { showConfirmDialog } from 'vant'
import { useI18n } from 'vue-i18n'

/** The part of workbox-window's Workbox this composable uses (a fake stands in for it in tests). */
export interface WorkboxLike {
  addEventListener(type: 'waiting' | 'controlling', listener: () => void): void
  register(): Promise<ServiceWorkerRegistration | undefined>
  messageSkipWaiting(): void
}

export interface ServiceWorkerOptions {
  url?: string
  /** Register at all: production builds with service worker support, by default. */
  enabled?: boolean
  /** By default workbox-window's Workbox, imported when registering (it has no part in the first screen). */
  createWorkbox?: (url: string) => WorkboxLike | Promise<WorkboxLike>
  /** Ask whether to update now; by default a Vant dialog "发现新版本，是否更新？". */
  confirmUpdate?: () => Promise<boolean>
  reload?: () => void
}

export function useServiceWorker(options: ServiceWorkerOptions = {}) {
  const { t } = useI18n()
  const url = options.url ?? '/sw.js'
  const enabled =
    options.enabled ??
    (import.meta.env.PROD && typeof navigator !== 'undefined' && 'serviceWorker' in navigator)
  const createWorkbox =
    options.createWorkbox ??
    (async (scriptUrl: string) => new (await import('workbox-window')).Workbox(scriptUrl))
  const reload = options.reload ?? (() => window.location.reload())
  const confirmUpdate =
    options.confirmUpdate ??
    (() =>
      showConfirmDialog({
        title: t('sw.updateTitle'),
        message: t('sw.updateMessage'),
        confirmButtonText: t('sw.update'),
        cancelButtonText: t('sw.later'),
      }).then(
        () => true,
        () => false,
      ))

  const needRefresh = ref(false)
  let workbox: WorkboxLike | null = null
  let registering = false
  let reloading = false

  function updateNow() {
    const wb = workbox
    if (!wb) return
    wb.addEventListener('controlling', () => {
      if (reloading) return
      reloading = true
      reload()
    })
    wb.messageSkipWaiting()
  }

  async function register(): Promise<void> {
    if (!enabled || registering) return
    registering = true
    let wb: WorkboxLike
    try {
      wb = await createWorkbox(url)
    } catch (error) {
      // workbox-window's chunk did not load (offline before it was ever cached): the next start tries again.
      registering = false
      console.warn('service worker registration failed', error)
      return
    }
    workbox = wb
    wb.addEventListener('waiting', () => {
      needRefresh.value = true
      void confirmUpdate().then((accepted) => {
        if (accepted) updateNow()
      })
    })
    try {
      await wb.register()
    } catch (error) {
      console.warn('service worker registration failed', error)
    }
  }

  return { needRefresh, register, updateNow }
}
