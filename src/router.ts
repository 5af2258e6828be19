/**
 * Routes. The map route is lazy so that Leaflet stays out of the main chunk. Every route but /login needs a
 * session; a session restored from IndexedDB counts (the app works offline on its cached session).
 */
import { createRouter, createWebHistory } from 'vue-router'
import type { RouteLocationNormalized, RouteRecordRaw, RouterHistory } from 'vue-router'
import { RECORD_KINDS, type RecordKind } from '#shared/schemas/records.ts'
import { useSessionStore } from './stores/useSessionStore.ts'
import LoginView from './views/LoginView.vue'
import HomeView from './views/HomeView.vue'
import RecordListView from './views/RecordListView.vue'
import RecordFormView from './views/RecordFormView.vue'
import SettingsView from './views/SettingsView.vue'
import NotFoundView from './views/NotFoundView.vue'

export type TabName = 'home' | RecordKind | 'map'

declare module 'vue-router' {
  interface RouteMeta {
    /** No session needed. */
    public?: boolean
    /** Shows a back arrow in the header. */
    back?: boolean
  }
}

function isKind(value: unknown): value is RecordKind {
  return typeof value === 'string' && (RECORD_KINDS as readonly string[]).includes(value)
}

const kindProps = (route: RouteLocationNormalized) => ({
  kind: route.params.kind as RecordKind,
  id: typeof route.params.id === 'string' ? route.params.id : undefined,
})

const checkKind = (to: RouteLocationNormalized) =>
  isKind(to.params.kind) ? true : { name: 'not-found' as const }

export const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: LoginView, meta: { public: true } },
  { path: '/', name: 'home', component: HomeView },
  {
    path: '/records/:kind',
    name: 'record-list',
    component: RecordListView,
    props: kindProps,
    beforeEnter: checkKind,
  },
  {
    path: '/records/:kind/new',
    name: 'record-new',
    component: RecordFormView,
    props: kindProps,
    beforeEnter: checkKind,
    meta: { back: true },
  },
  {
    path: '/records/:kind/:id',
    name: 'record-edit',
    component: RecordFormView,
    props: kindProps,
    beforeEnter: checkKind,
    meta: { back: true },
  },
  { path: '/map', name: 'map', component: () => import('./views/MapView.vue') },
  { path: '/settings', name: 'settings', component: SettingsView, meta: { back: true } },
  { path: '/:pathMatch(.*)*', name: 'not-found', component: NotFoundView, meta: { public: true } },
]

/** The tab bar item a route belongs to, if any. */
export function tabOf(route: RouteLocationNormalized): TabName | null {
  if (route.name === 'home') return 'home'
  if (route.name === 'map') return 'map'
  const kind = route.params.kind
  return isKind(kind) ? kind : null
}

/** The header title's i18n key for a route. */
export function titleKeyOf(route: RouteLocationNormalized): string {
  const kind = isKind(route.params.kind) ? route.params.kind : null
  switch (route.name) {
    case 'login':
      return 'titles.login'
    case 'record-list':
      return kind ? `titles.list.${kind}` : 'titles.home'
    case 'record-new':
      return kind ? `titles.new.${kind}` : 'titles.home'
    case 'record-edit':
      return kind ? `titles.edit.${kind}` : 'titles.home'
    case 'map':
      return 'titles.map'
    case 'settings':
      return 'titles.settings'
    case 'not-found':
      return 'titles.notFound'
    default:
      return 'titles.home'
  }
}

export function createAppRouter(history: RouterHistory = createWebHistory()) {
  const router = createRouter({ history, routes, scrollBehavior: () => ({ top: 0 }) })
  router.beforeEach(async (to) => {
    const session = useSessionStore()
    await session.ready
    if (to.meta.public) {
      if (to.name === 'login' && session.isLoggedIn) return { name: 'home' }
      return true
    }
    if (!session.isLoggedIn) {
      return to.fullPath === '/' ? { name: 'login' } : { name: 'login', query: { redirect: to.fullPath } }
    }
    return true
  })
  return router
}
