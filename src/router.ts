/**
 * Routes. Only login and home are in the main chunk: every other screen (lists, forms, map, admin, dashboard) is lazy,
 * so the first screen loads less (the service worker precaches every chunk, so they all open offline). Every
 * route but /login needs a session; a session restored from IndexedDB counts (the app works offline on its cached
 * session). Routes a role may not use (a handler's households and places, a non-admin's /admin) redirect home: the
 * server refuses them anyway, the UI only hides them (#shared/domain/permissions.ts is the one table).
 */
import { START_LOCATION, createRouter, createWebHistory } from 'vue-router'
import type { RouteLocationNormalized, RouteRecordRaw, RouterHistory } from 'vue-router'
import { RECORD_KINDS, type RecordKind } from '#shared/schemas/records.ts'
import type { UserRole } from '#shared/schemas/api.ts'
import { canAdminister, canOnRecords, readableKinds } from '#shared/domain/permissions.ts'
import { canReviewConflicts } from '#shared/schemas/conflictQueue.ts'
import { useSessionStore } from './stores/useSessionStore.ts'
import LoginView from './views/LoginView.vue'
import HomeView from './views/HomeView.vue'
import NotFoundView from './views/NotFoundView.vue'

export type TabName = 'home' | RecordKind | 'map'

export interface TabItem {
  name: TabName
  to: string
  icon: string
  label: string
}

const ALL_TABS: readonly TabItem[] = [
  { name: 'home', to: '/', icon: 'home-o', label: 'nav.home' },
  { name: 'household', to: '/records/household', icon: 'wap-home-o', label: 'nav.household' },
  { name: 'place', to: '/records/place', icon: 'shop-o', label: 'nav.place' },
  { name: 'incident', to: '/records/incident', icon: 'warning-o', label: 'nav.incident' },
  { name: 'map', to: '/map', icon: 'location-o', label: 'nav.map' },
]

/** The tab bar of a role: a record kind's tab only when the role may read that kind (a handler: incidents). */
export function tabsFor(role: UserRole): TabItem[] {
  const kinds = readableKinds(role)
  return ALL_TABS.filter((tab) => !isKind(tab.name) || kinds.includes(tab.name))
}

declare module 'vue-router' {
  interface RouteMeta {
    /** No session needed. */
    public?: boolean
    /** Shows a back arrow in the header. */
    back?: boolean
    /** Admins only (canAdminister); others are sent home. */
    admin?: boolean
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

const RecordListView = () => import('./views/RecordListView.vue')
const RecordFormView = () => import('./views/RecordFormView.vue')

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
  {
    path: '/settings',
    name: 'settings',
    component: () => import('./views/SettingsView.vue'),
    meta: { back: true },
  },
  {
    path: '/conflicts',
    name: 'conflicts',
    component: () => import('./views/ConflictsView.vue'),
    // Leaders and admins only (the server refuses the others anyway).
    beforeEnter: () => {
      const role = useSessionStore().user?.role
      return role !== undefined && canReviewConflicts(role) ? true : { name: 'home' as const }
    },
    meta: { back: true },
  },
  {
    path: '/dashboard',
    name: 'dashboard',
    component: () => import('./views/DashboardView.vue'),
    meta: { back: true },
  },
  {
    path: '/import',
    name: 'import',
    component: () => import('./components/exchange/HouseholdImport.vue'),
    meta: { back: true },
  },
  {
    path: '/admin',
    name: 'admin',
    component: () => import('./views/AdminView.vue'),
    meta: { back: true, admin: true },
  },
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
    case 'dashboard':
      return 'dash.board.title'
    case 'import':
      return 'dash.import.title'
    case 'conflicts':
      return 'conflicts.title'
    case 'admin':
      return 'titles.admin'
    case 'not-found':
      return 'titles.notFound'
    default:
      return 'titles.home'
  }
}

/** Whether a role may open a route: record routes by the permissions table, /admin for admins only. */
export function allowedFor(role: UserRole, to: RouteLocationNormalized): boolean {
  if (to.meta.admin && !canAdminister(role)) return false
  const kind = to.params.kind
  if (!isKind(kind)) return true
  if (to.name === 'record-new') return canOnRecords(role, 'create', kind)
  return readableKinds(role).includes(kind)
}

export function createAppRouter(history: RouterHistory = createWebHistory()) {
  const router = createRouter({
    history,
    routes,
    // Not on the first navigation: the page opens at the top anyway, and scrolling there is a forced layout in the
    // task that renders the first screen.
    scrollBehavior: (_to, from) => (from === START_LOCATION ? false : { top: 0 }),
  })
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
    const role = session.user?.role
    if (role && !allowedFor(role, to)) return { name: 'home' }
    return true
  })
  return router
}
