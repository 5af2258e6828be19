import { Router } from 'express'
import { loginRequestSchema, refreshRequestSchema } from '#shared/schemas/api.ts'
import { parseWith } from '../http/parseWith.ts'
import { setDeviceId, setUserId } from '../http/requestContext.ts'
import { bearerToken } from '../http/requireAuth.ts'
import type { RouteDeps } from './RouteDeps.ts'

export function authRouter({ auth, now }: RouteDeps): Router {
  const router = Router()
  router.post('/auth/login', async (req, res) => {
    const body = parseWith(loginRequestSchema, req.body)
    setDeviceId(res, body.deviceId)
    const session = await auth.login({ ...body, ip: req.ip ?? req.socket.remoteAddress ?? 'unknown' }, now())
    setUserId(res, session.user.id)
    res.json(session)
  })
  router.post('/auth/refresh', async (req, res) => {
    const body = parseWith(refreshRequestSchema, req.body)
    setDeviceId(res, body.deviceId)
    const session = await auth.refresh(body.refreshToken, body.deviceId, now())
    setUserId(res, session.user.id)
    res.json(session)
  })
  // Idempotent: logging out with an unknown or revoked token still succeeds; an expired one still ends its session.
  router.post('/auth/logout', async (req, res) => {
    const token = bearerToken(req.get('authorization'))
    if (token) await auth.logout(token, now())
    res.json({ ok: true })
  })
  return router
}
