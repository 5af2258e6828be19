import { Router } from 'express'
import { coversScope } from '#shared/domain/permissions.ts'
import { handlersQuerySchema } from '#shared/schemas/api.ts'
import { forbidden, notFound } from '../http/HttpError.ts'
import { parseWith } from '../http/parseWith.ts'
import { sessionOf } from '../http/requestContext.ts'
import type { RouteDeps } from './RouteDeps.ts'

/**
 * Whom a leader may dispatch an incident of a grid to: the enabled handler accounts (责任单位) whose areas cover the
 * grid, the same rule the sync judge applies to a `handlerId` (services/incidentWorkflow.ts). Leaders and admins
 * only, and only for a grid in their own scope (404 otherwise, as for records they cannot see).
 */
export function handlersRouter({ store, authenticated }: RouteDeps): Router {
  const router = Router()
  router.get('/handlers', authenticated, async (req, res) => {
    const { user } = sessionOf(res)
    if (user.role !== 'leader' && user.role !== 'admin') throw forbidden('只有网格长和管理员可以选择处理人')
    const { gridId } = parseWith(handlersQuerySchema, req.query, 'query')
    const scope = await store.scopeOfGrid(gridId)
    if (!scope || !coversScope(user.areaIds, scope)) throw notFound('该网格不在您的管辖范围内或不存在')
    const handlers = (await store.listUsers())
      .filter(
        (account) => account.role === 'handler' && !account.disabled && coversScope(account.areaIds, scope),
      )
      .map((account) => ({ id: account.id, name: account.displayName }))
      .sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'))
    res.json({ handlers })
  })
  return router
}
