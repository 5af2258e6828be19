import type { RequestHandler } from 'express'
import type { Config } from '../config.ts'
import type { AuthService } from '../services/authService.ts'
import type { SyncService } from '../services/syncService.ts'
import type { SyncStore } from '../store/SyncStore.ts'

/** What the thin routers are given by createApp. */
export interface RouteDeps {
  store: SyncStore
  config: Config
  now: () => number
  auth: AuthService
  sync: SyncService
  /** 401 unless a live session's bearer token is sent. */
  authenticated: RequestHandler
}
