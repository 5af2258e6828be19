import { Router } from 'express'
import { pullQuerySchema, pushRequestSchema } from '#shared/sync/protocol.ts'
import { parseWith } from '../http/parseWith.ts'
import { checkProtocol } from '../http/protocolCheck.ts'
import { requireSameDevice, sessionOf } from '../http/requestContext.ts'
import type { RouteDeps } from './RouteDeps.ts'

export function syncRouter({ sync, now, authenticated }: RouteDeps): Router {
  const router = Router()
  router.post('/sync/push', authenticated, async (req, res) => {
    checkProtocol((req.body as { protocol?: unknown } | undefined)?.protocol)
    const body = parseWith(pushRequestSchema, req.body)
    requireSameDevice(res, body.deviceId)
    res.json(await sync.push(sessionOf(res).user, body.deviceId, body.ops, now()))
  })
  router.get('/sync/pull', authenticated, async (req, res) => {
    checkProtocol(req.query.protocol)
    const query = parseWith(pullQuerySchema, req.query, 'query')
    requireSameDevice(res, query.deviceId)
    res.json(await sync.pull(sessionOf(res).user, query.deviceId, query.since, query.limit, now()))
  })
  return router
}
