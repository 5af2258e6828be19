import express from 'express'
import type { Express } from 'express'
import type { Logger } from 'pino'
import type { Config } from './config.ts'
import { HttpError } from './http/HttpError.ts'
import { errorHandler } from './http/errorHandler.ts'
import { requestLogger } from './http/requestLogger.ts'
import { requireAuth } from './http/requireAuth.ts'
import { staticFiles } from './http/staticFiles.ts'
import { areasRouter } from './routes/areasRouter.ts'
import { authRouter } from './routes/authRouter.ts'
import { metaRouter } from './routes/metaRouter.ts'
import { recordsRouter } from './routes/recordsRouter.ts'
import type { RouteDeps } from './routes/RouteDeps.ts'
import { syncRouter } from './routes/syncRouter.ts'
import { createAuthService } from './services/authService.ts'
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
}

export function createApp({ store, config, now, logger, staticDir }: AppDeps): Express {
  const auth = createAuthService({ store })
  const sync = createSyncService({ store, maxClockDriftMs: config.maxClockDriftMs })
  const deps: RouteDeps = { store, config, now, auth, sync, authenticated: requireAuth(auth, now) }

  const app = express()
  app.disable('x-powered-by')
  app.use(requestLogger(logger))
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff')
    next()
  })

  const api = express.Router()
  api.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store')
    next()
  })
  api.use(express.json({ limit: config.bodyLimit }))
  for (const router of [metaRouter, authRouter, syncRouter, areasRouter, recordsRouter]) api.use(router(deps))
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
