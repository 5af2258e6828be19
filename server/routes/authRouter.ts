import { Router } from 'express'
import { loginRequestSchema } from '#shared/schemas/api.ts'
import { HttpError } from '../http/HttpError.ts'
import { parseWith } from '../http/parseWith.ts'
import { setDeviceId, setUserId } from '../http/requestContext.ts'
import { bearerToken } from '../http/requireAuth.ts'
import type { RouteDeps } from './RouteDeps.ts'

export function authRouter({ auth, now }: RouteDeps): Router {
  const router = Router()
  router.post('/auth/login', async (req, res) => {
    const body = parseWith(loginRequestSchema, req.body)
    setDeviceId(res, body.deviceId)
    const session = await auth.login(body.username, body.password, body.deviceId, now())
    if (!session) throw new HttpError(401, 'invalid_credentials', '用户名或密码错误')
    setUserId(res, session.user.id)
    res.json(session)
  })
  // Idempotent: logging out with an unknown or expired token still succeeds.
  router.post('/auth/logout', async (req, res) => {
    const token = bearerToken(req.get('authorization'))
    if (token) await auth.logout(token)
    res.json({ ok: true })
  })
  return router
}
