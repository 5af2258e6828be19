import { Router } from 'express'
import { PROTOCOL_VERSION } from '#shared/sync/protocol.ts'
import type { RouteDeps } from './RouteDeps.ts'

/** Unauthenticated: health and the client configuration (basemap, clock drift limit, incident deadlines, protocol). */
export function metaRouter({ config, now }: RouteDeps): Router {
  const router = Router()
  router.get('/health', (_req, res) => {
    res.json({ ok: true, protocol: PROTOCOL_VERSION, time: now() })
  })
  router.get('/config', (_req, res) => {
    res.json({
      basemapUrl: config.basemapUrl,
      basemapAttribution: config.basemapAttribution,
      maxClockDriftMs: config.maxClockDriftMs,
      deadlines: config.deadlines,
      protocol: PROTOCOL_VERSION,
    })
  })
  return router
}
