import type { RequestHandler } from 'express'
import type { AuthService } from '../services/authService.ts'
import { HttpError } from './HttpError.ts'
import { setSession } from './requestContext.ts'

export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer ([A-Za-z0-9_-]{16,256})$/.exec(header ?? '')
  return match?.[1] ?? null
}

/**
 * 401 unless the request carries `Authorization: Bearer <access token>` of a live session: `token_expired` when the
 * token is merely old (the device refreshes and retries), `unauthorized` when it is unknown or revoked.
 */
export function requireAuth(auth: AuthService, now: () => number): RequestHandler {
  return async (req, res, next) => {
    const token = bearerToken(req.get('authorization'))
    const result = token ? await auth.authenticate(token, now()) : ({ status: 'invalid' } as const)
    if (result.status === 'expired') throw new HttpError(401, 'token_expired', '登录已过期，正在刷新')
    if (result.status === 'invalid') throw new HttpError(401, 'unauthorized', '登录已失效，请重新登录')
    setSession(res, result.session)
    next()
  }
}
