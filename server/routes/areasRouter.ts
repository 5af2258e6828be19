import { Router } from 'express'
import { sessionOf } from '../http/requestContext.ts'
import { AreaTree } from '../services/AreaTree.ts'
import type { RouteDeps } from './RouteDeps.ts'

/** The areas a user works in (their subtree) and the path above them, with grid polygons. */
export function areasRouter({ store, authenticated }: RouteDeps): Router {
  const router = Router()
  router.get('/areas', authenticated, async (_req, res) => {
    const tree = new AreaTree(await store.listAreas())
    res.json({
      areas: tree.visibleTo(sessionOf(res).user.areaIds).map(({ id, level, name, parentId, geometry }) => ({
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
