import compression from 'compression'
import express from 'express'
import type { Express } from 'express'
import { join, resolve } from 'node:path'
import type { Logger } from 'pino'
import type { Config } from './config.ts'
import { HttpError } from './http/HttpError.ts'
import { errorHandler } from './http/errorHandler.ts'
import { jsonOnly } from './http/jsonOnly.ts'
import { requestLogger } from './http/requestLogger.ts'
import { requireAuth } from './http/requireAuth.ts'
import { securityHeaders } from './http/securityHeaders.ts'
import { staticFiles } from './http/staticFiles.ts'
import { adminRouter } from './routes/adminRouter.ts'
import { areasRouter } from './routes/areasRouter.ts'
import { authRouter } from './routes/authRouter.ts'
import { devicesRouter } from './routes/devicesRouter.ts'
import { handlersRouter } from './routes/handlersRouter.ts'
import { metaRouter } from './routes/metaRouter.ts'
import { photosRouter } from './routes/photosRouter.ts'
import { recordsRouter } from './routes/recordsRouter.ts'
import type { RouteDeps } from './routes/RouteDeps.ts'
import { syncRouter } from './routes/syncRouter.ts'
import { createAdminService } from './services/adminService.ts'
import { createAuthService } from './services/authService.ts'
import { createPhotoService } from './services/photoService.ts'
import type { PasswordCost } from './services/password.ts'
import { createSyncService } from './services/syncService.ts'
import type { SyncStore } from './store/SyncStore.ts'

export interface AppDeps {
  store: SyncStore
  config: Config
  /** The wall clock (ms); injected so tests control time. */
  now: () => number
  logger: Logger
  /** The built app (vite's dist) to serve next to the API. */
  staticDir?: string
  /** argon2id cost for new hashes and rehashing (tests pass a cheap one). */
  passwordCost?: PasswordCost
  /** Where photo bytes live; DATA_DIR/photos unless given. */
  photosDir?: string
}

/**
 * The HTTP app. No CORS middleware on purpose: the app and its API share one origin, so no response ever carries
 * Access-Control-Allow-Origin and browsers keep other sites' pages from reading it.
 */
export function createApp({
  store,
  config,
  now,
  logger,
  staticDir,
  passwordCost,
  photosDir,
}: AppDeps): Express {
  const cost = passwordCost ? { passwordCost } : {}
  const auth = createAuthService({
    store,
    accessTokenTtlMs: config.accessTokenTtlMs,
    refreshTokenTtlMs: config.refreshTokenTtlMs,
    ...cost,
  })
  const sync = createSyncService({
    store,
    maxClockDriftMs: config.maxClockDriftMs,
    deadlines: config.deadlines,
  })
  const admin = createAdminService({ store, ...cost })
  const photos = createPhotoService({ store, root: photosDir ?? join(resolve(config.dataDir), 'photos') })
  const deps: RouteDeps = {
    store,
    config,
    now,
    auth,
    sync,
    admin,
    photos,
    authenticated: requireAuth(auth, now),
  }

  const app = express()
  app.disable('x-powered-by')
  app.set('trust proxy', config.trustProxy)
  app.use(requestLogger(logger))
  app.use(securityHeaders(config.basemapUrl))
  // gzip for JSON, HTML, JS and CSS (a pull page of households shrinks about fivefold); photos are JPEG, left as is.
  app.use(compression())

  const api = express.Router()
  api.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store')
    next()
  })
  api.use(jsonOnly)
  api.use(express.json({ limit: config.bodyLimit }))
  for (const router of [
    metaRouter,
    authRouter,
    syncRouter,
    areasRouter,
    recordsRouter,
    devicesRouter,
    handlersRouter,
    adminRouter,
    photosRouter,
  ]) {
    api.use(router(deps))
  }
  api.use((req) => {
    throw new HttpError(404, 'not_found', `no such API route: ${req.method} ${req.baseUrl}${req.path}`)
  })
  app.use('/api', api)

  if (staticDir) app.use(staticFiles(staticDir))
  app.use((req) => {
    throw new HttpError(404, 'not_found', `not found: ${req.path}`)
  })
  app.use(errorHandler(logger, config.bodyLimit))
  return app
}
