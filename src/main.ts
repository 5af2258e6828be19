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

const pinia = createPinia()

/**
 * The app starts in a task of its own: evaluating the modules above is already one long task, and a phone that
 * gets the page and the first render in a single stretch cannot answer a tap for all of it.
 */
setTimeout(() => {
  const app = createApp(App)
  app.use(pinia)
  app.use(createAppI18n())
  app.use(createAppRouter())
  app.mount('#app')
  // The sync store is made here, in the starting task, not in the first screen's render task; it starts later.
  const sync = useSyncStore(pinia)
  afterFirstPaint(() => startBackgroundWork(sync))
}, 0)

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
  // Ask once for persistent storage, so the browser does not evict offline records and photos under pressure.
  void useStorage()
    .persist()
    .catch(() => false)
}
