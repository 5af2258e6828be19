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

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
app.use(createAppI18n())
app.use(createAppRouter())
app.mount('#app')

// Sync starts after the first paint; the scheduler itself waits for a session.
useSyncStore(pinia).start()

// Ask once for persistent storage, so the browser does not evict offline records and photos under pressure.
void useStorage()
  .persist()
  .catch(() => false)
