// First: zod must know it may not use eval before any schema is built (see zodJitless.ts).
import './zodJitless.ts'
import { createApp } from 'vue'
import { createPinia } from 'pinia'
// Function components are not auto-imported with their styles: import those we call.
import 'vant/es/toast/style'
import 'vant/es/dialog/style'
import './styles/main.css'
import { applyDisplayPrefs, readDisplayPrefs } from './components/settings/displayPrefs.ts'
import { useStorage } from './composables/useStorage.ts'
import App from './App.vue'
import { createAppRouter } from './router.ts'
import { createAppI18n } from './i18n/index.ts'
import { useSyncStore } from './stores/useSyncStore.ts'

// Large text and high contrast apply before the first paint.
applyDisplayPrefs(readDisplayPrefs())

/** Give the browser the main thread back (a tap, a frame) before the next step. */
function nextTask(): Promise<void> {
  return new Promise((resume) => setTimeout(resume, 0))
}

/**
 * The app starts in tasks of its own (issue 6: Lighthouse mobile, Total Blocking Time). Evaluating the modules above
 * is already one long task, and index.html's static first screen is on show by then: a phone that got the app's
 * creation, its plugins, the stores (which open the device's database) and the first render in one stretch more
 * could not answer a tap for all of it. So each is a task: the app and its plugins, then the stores and the router
 * (whose first navigation reads the stored session), then the mount.
 */
setTimeout(() => void boot(), 0)

async function boot(): Promise<void> {
  const pinia = createPinia()
  const app = createApp(App)
  app.use(pinia)
  app.use(createAppI18n())
  await nextTask()
  // The sync store is made here, not in the first screen's render task; it starts later.
  const sync = useSyncStore(pinia)
  app.use(createAppRouter())
  await nextTask()
  app.mount('#app')
  afterFirstPaint(() => startBackgroundWork(sync))
}

/**
 * Work that can wait for the first screen: run it in a task of its own after the next frame (or after 500 ms, as
 * a hidden tab gets no frames), so its IndexedDB reads and network calls do not lengthen the task that paints.
 */
function afterFirstPaint(work: () => void): void {
  let done = false
  const run = () => {
    if (done) return
    done = true
    work()
  }
  requestAnimationFrame(() => setTimeout(run, 0))
  setTimeout(run, 500)
}

function startBackgroundWork(sync: ReturnType<typeof useSyncStore>): void {
  // Sync: the scheduler itself waits for a session.
  sync.start()
  // Ask once for persistent storage, so the browser does not evict offline records and photos under pressure: in a
  // task of its own, as the browser answers it on the main thread.
  setTimeout(() => {
    void useStorage()
      .persist()
      .catch(() => false)
  }, 0)
}
