import { Router } from 'express'
import type { RouteDeps } from './RouteDeps.ts'

export function areasRouter({ store, authenticated }: RouteDeps): Router {
  const router = Router()
  router.get('/areas', authenticated, async (_req, res) => {
    const areas = await store.listAreas()
    res.json({
      areas: areas.map(({ id, level, name, parentId, geometry }) => ({
        id,
        level,
        name,
        parentId,
        geometry,
      })),
    })
  })
  return router
}
