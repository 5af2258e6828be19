import type { RequestHandler } from 'express'
import type { Config } from '../config.ts'
import type { AdminService } from '../services/adminService.ts'
import type { AuthService } from '../services/authService.ts'
import type { PhotoService } from '../services/photoService.ts'
import type { SyncService } from '../services/syncService.ts'
import type { SyncStore } from '../store/SyncStore.ts'

/** What the thin routers are given by createApp. */
export interface RouteDeps {
  store: SyncStore
  config: Config
  now: () => number
  auth: AuthService
  sync: SyncService
  admin: AdminService
  photos: PhotoService
  /** 401 unless a live session's access token is sent (token_expired when it is merely old). */
  authenticated: RequestHandler
}
