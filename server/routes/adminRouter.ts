import { Router } from 'express'
import type { Response } from 'express'
import { z } from 'zod'
import {
  createAreaRequestSchema,
  createUserRequestSchema,
  updateAreaRequestSchema,
  updateUserRequestSchema,
} from '#shared/schemas/admin.ts'
import { parseWith } from '../http/parseWith.ts'
import { sessionOf } from '../http/requestContext.ts'
import type { Actor } from '../services/adminService.ts'
import type { RouteDeps } from './RouteDeps.ts'

// The shared request schemas, except that geometry is checked by the service, which says what is wrong with it
// (invalid_geometry, overlapping_grid) instead of a generic schema message.
const newAreaSchema = createAreaRequestSchema.extend({ geometry: z.unknown().optional() })
const areaChangesSchema = updateAreaRequestSchema.extend({ geometry: z.unknown().optional() })
const auditQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.coerce.number().int().positive().optional(),
})
const idParamsSchema = z.object({ id: z.string().min(1).max(64) })

const actorOf = (res: Response): Actor => {
  const session = sessionOf(res)
  return { user: session.user, deviceId: session.deviceId }
}

/** The admin screens' API: admins only, within their own areas (the service enforces both). */
export function adminRouter({ admin, now, authenticated }: RouteDeps): Router {
  const router = Router()
  router.use('/admin', authenticated)

  router.get('/admin/areas', async (_req, res) => {
    res.json({ areas: await admin.listAreas(sessionOf(res).user) })
  })
  router.post('/admin/areas', async (req, res) => {
    const body = parseWith(newAreaSchema, req.body)
    res.status(201).json({ area: await admin.createArea(actorOf(res), body, now()) })
  })
  router.patch('/admin/areas/:id', async (req, res) => {
    const { id } = parseWith(idParamsSchema, req.params, 'params')
    const body = parseWith(areaChangesSchema, req.body)
    res.json(await admin.updateArea(actorOf(res), id, body, now()))
  })

  router.get('/admin/users', async (_req, res) => {
    res.json({ users: await admin.listUsers(sessionOf(res).user) })
  })
  router.post('/admin/users', async (req, res) => {
    const body = parseWith(createUserRequestSchema, req.body)
    res.status(201).json({ user: await admin.createUser(actorOf(res), body, now()) })
  })
  router.patch('/admin/users/:id', async (req, res) => {
    const { id } = parseWith(idParamsSchema, req.params, 'params')
    const body = parseWith(updateUserRequestSchema, req.body)
    res.json({ user: await admin.updateUser(actorOf(res), id, body, now()) })
  })

  router.get('/admin/devices', async (_req, res) => {
    res.json({ devices: await admin.listDevices(sessionOf(res).user) })
  })
  router.post('/admin/devices/:id/wipe', async (req, res) => {
    const { id } = parseWith(idParamsSchema, req.params, 'params')
    res.json({ device: await admin.requestWipe(actorOf(res), id, now()) })
  })

  router.get('/admin/audit', async (req, res) => {
    const query = parseWith(auditQuerySchema, req.query, 'query')
    res.json(
      await admin.listAudit(sessionOf(res).user, {
        limit: query.limit,
        ...(query.before === undefined ? {} : { before: query.before }),
      }),
    )
  })
  return router
}
