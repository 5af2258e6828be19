import type { RequestHandler } from 'express'
import type { AuthService } from '../services/authService.ts'
import { HttpError } from './HttpError.ts'
import { setSession } from './requestContext.ts'

export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer ([A-Za-z0-9_-]{16,256})$/.exec(header ?? '')
  return match?.[1] ?? null
}

/** 401 `unauthorized` unless the request carries `Authorization: Bearer <token>` of a live session. */
export function requireAuth(auth: AuthService, now: () => number): RequestHandler {
  return async (req, res, next) => {
    const token = bearerToken(req.get('authorization'))
    const session = token ? await auth.authenticate(token, now()) : null
    if (!session) throw new HttpError(401, 'unauthorized', '登录已失效，请重新登录')
    setSession(res, session)
    next()
  }
}
