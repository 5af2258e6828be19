import { Router } from 'express'
import { sessionOf } from '../http/requestContext.ts'
import type { RouteDeps } from './RouteDeps.ts'

export function devicesRouter({ admin, now, authenticated }: RouteDeps): Router {
  const router = Router()
  // The device has deleted its data after a `wipe: true` answer: the server marks it wiped and ends its sessions.
  router.post('/devices/wiped', authenticated, async (_req, res) => {
    const session = sessionOf(res)
    await admin.confirmWiped({ user: session.user, deviceId: session.deviceId }, now())
    res.json({ ok: true })
  })
  return router
}
