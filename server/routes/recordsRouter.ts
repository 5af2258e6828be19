import { Router } from 'express'
import { z } from 'zod'
import { unmaskRequestSchema } from '#shared/schemas/api.ts'
import { conflictQueueQuerySchema, resolveConflictRequestSchema } from '#shared/schemas/conflictQueue.ts'
import { recordKindSchema } from '#shared/schemas/records.ts'
import { recordIdSchema } from '#shared/sync/protocol.ts'
import { parseWith } from '../http/parseWith.ts'
import { sessionOf } from '../http/requestContext.ts'
import { createConflictService } from '../services/conflictService.ts'
import type { RouteDeps } from './RouteDeps.ts'

const recordParamsSchema = z.object({ kind: recordKindSchema, id: recordIdSchema })
const timelineParamsSchema = z.object({ id: recordIdSchema })
const conflictsQuerySchema = z.strictObject({ recordId: recordIdSchema })

/**
 * The server's copy of a record, its timeline (every applied write, who, when, which device) and its conflict rows,
 * scoped and masked; unmasking is explicit and audited. The leaders' conflict review queue lives here too
 * (/conflicts/queue and /conflicts/resolve, next to the per-record /conflicts?recordId=).
 */
export function recordsRouter({ store, sync, now, authenticated }: RouteDeps): Router {
  const router = Router()
  const conflicts = createConflictService({ store })
  // Before /records/:kind/:id, which would otherwise read `<id>/timeline` as a kind and an id.
  router.get('/records/:id/timeline', authenticated, async (req, res) => {
    const { id } = parseWith(timelineParamsSchema, req.params, 'params')
    res.json(await sync.timeline(sessionOf(res).user, id))
  })
  router.get('/records/:kind/:id', authenticated, async (req, res) => {
    const { kind, id } = parseWith(recordParamsSchema, req.params, 'params')
    res.json(await sync.getRecord(sessionOf(res).user, kind, id))
  })
  router.post('/records/:kind/:id/unmask', authenticated, async (req, res) => {
    const { kind, id } = parseWith(recordParamsSchema, req.params, 'params')
    const { field } = parseWith(unmaskRequestSchema, req.body)
    const session = sessionOf(res)
    res.json(await sync.unmask(session.user, session.deviceId, kind, id, field, now()))
  })
  router.get('/conflicts', authenticated, async (req, res) => {
    const { recordId } = parseWith(conflictsQuerySchema, req.query, 'query')
    res.json({ conflicts: await sync.listConflicts(sessionOf(res).user, recordId) })
  })
  router.get('/conflicts/queue', authenticated, async (req, res) => {
    const query = parseWith(conflictQueueQuerySchema, req.query, 'query')
    res.json(await conflicts.queue(sessionOf(res).user, query))
  })
  router.post('/conflicts/resolve', authenticated, async (req, res) => {
    const body = parseWith(resolveConflictRequestSchema, req.body)
    res.json({ resolution: await conflicts.resolve(sessionOf(res).user, body, now()) })
  })
  return router
}
