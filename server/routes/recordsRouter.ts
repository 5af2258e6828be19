import { Router } from 'express'
import { z } from 'zod'
import { recordKindSchema } from '#shared/schemas/records.ts'
import { recordIdSchema } from '#shared/sync/protocol.ts'
import { HttpError } from '../http/HttpError.ts'
import { parseWith } from '../http/parseWith.ts'
import type { RouteDeps } from './RouteDeps.ts'

const recordParamsSchema = z.object({ kind: recordKindSchema, id: recordIdSchema })
const conflictsQuerySchema = z.strictObject({ recordId: recordIdSchema })

/** The server's copy of a record and its conflict rows (tests now, the leader's screens later). */
export function recordsRouter({ sync, authenticated }: RouteDeps): Router {
  const router = Router()
  router.get('/records/:kind/:id', authenticated, async (req, res) => {
    const { kind, id } = parseWith(recordParamsSchema, req.params, 'params')
    const record = await sync.getRecord(kind, id)
    if (!record) throw new HttpError(404, 'not_found', '没有这条记录')
    res.json(record)
  })
  router.get('/conflicts', authenticated, async (req, res) => {
    const { recordId } = parseWith(conflictsQuerySchema, req.query, 'query')
    res.json({ conflicts: await sync.listConflicts(recordId) })
  })
  return router
}
