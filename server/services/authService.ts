import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { LoginResponse } from '#shared/schemas/api.ts'
import { HttpError } from '../http/HttpError.ts'
import type { Session, StoreOps, SyncStore, User } from '../store/SyncStore.ts'
import { DEFAULT_PASSWORD_COST, hashPassword, verifyPassword } from './password.ts'
import type { PasswordCost } from './password.ts'

/** After this many failed logins within the window, per username and per client address, logins are refused. */
export const MAX_LOGIN_FAILURES = 5
export const LOGIN_WINDOW_MS = 15 * 60_000

export type Authentication =
  { status: 'live'; session: Session } | { status: 'expired' } | { status: 'invalid' }

export interface LoginInput {
  username: string
  password: string
  deviceId: string
  /** The client's address, for the per-address rate limit. */
  ip: string
}

export interface AuthService {
  /** A new session for the device; throws 429 too_many_attempts, 401 invalid_credentials, 403 account_disabled. */
  login(input: LoginInput, now: number): Promise<LoginResponse>
  /** Rotate the device's tokens; throws 401 unauthorized when the refresh token is unknown, expired or revoked. */
  refresh(refreshToken: string, deviceId: string, now: number): Promise<LoginResponse>
  authenticate(accessToken: string, now: number): Promise<Authentication>
  /** Revoke the sessions of the device this access token (even expired) belongs to; unknown tokens are ignored. */
  logout(accessToken: string, now: number): Promise<void>
}

export interface AuthServiceOptions {
  store: SyncStore
  accessTokenTtlMs: number
  refreshTokenTtlMs: number
  passwordCost?: PasswordCost
}

/** Only a token's SHA-256 is stored: a leaked database holds no usable sessions. */
export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex')
const newToken = (): string => randomBytes(32).toString('base64url')

const unauthorized = (message = '登录已失效，请重新登录') => new HttpError(401, 'unauthorized', message)

function publicUser({ id, username, displayName, role, areaIds }: User): LoginResponse['user'] {
  return { id, username, displayName, role, areaIds: [...areaIds] }
}

/**
 * Sessions: a short-lived access token for API calls and a refresh token per (user, device), both stored as SHA-256
 * hashes only, so any server process over the same database can answer.
 *
 * Invariants:
 * - A refresh rotates: the presented refresh token dies and a new pair is issued. Presenting a rotated token again
 *   means two parties hold it (theft, or a copied phone): every session of that device is revoked.
 * - One live session per device: a new login on a device revokes what that device held before.
 * - Failed logins are counted in the database per username and per client address (so every process sees them);
 *   at MAX_LOGIN_FAILURES within LOGIN_WINDOW_MS further attempts are refused before the password is even checked.
 *   A successful login clears the username's count.
 * - A disabled user cannot log in, refresh or use a token.
 * - Spent tokens are kept while they could still be presented (a rotated refresh token until it would have expired,
 *   for theft detection), then pruned; an expired session goes with its tokens.
 */
export function createAuthService({
  store,
  accessTokenTtlMs,
  refreshTokenTtlMs,
  passwordCost = DEFAULT_PASSWORD_COST,
}: AuthServiceOptions): AuthService {
  // Verifying against a throwaway hash for unknown users keeps their answer as slow as a wrong password's.
  let dummyHash: Promise<string> | null = null

  async function issueTokens(
    tx: StoreOps,
    sessionId: string,
    user: User,
    now: number,
  ): Promise<LoginResponse> {
    const accessToken = newToken()
    const refreshToken = newToken()
    const accessExpiresAt = now + accessTokenTtlMs
    const refreshExpiresAt = now + refreshTokenTtlMs
    await tx.insertAccessToken({ tokenHash: tokenHash(accessToken), sessionId, expiresAt: accessExpiresAt })
    await tx.insertRefreshToken({
      tokenHash: tokenHash(refreshToken),
      sessionId,
      createdAt: now,
      expiresAt: refreshExpiresAt,
    })
    return { accessToken, accessExpiresAt, refreshToken, refreshExpiresAt, user: publicUser(user) }
  }

  async function checkRateLimit(keys: readonly string[], now: number): Promise<void> {
    let retryAt = 0
    for (const key of keys) {
      const failures = await store.listLoginFailures(key, now - LOGIN_WINDOW_MS)
      if (failures.length < MAX_LOGIN_FAILURES) continue
      // Allowed again once enough failures have left the window to fall under the limit.
      retryAt = Math.max(retryAt, failures[failures.length - MAX_LOGIN_FAILURES]! + LOGIN_WINDOW_MS)
    }
    if (retryAt <= now) return
    const seconds = Math.max(1, Math.ceil((retryAt - now) / 1000))
    throw new HttpError(
      429,
      'too_many_attempts',
      `登录失败次数过多，请 ${Math.ceil(seconds / 60)} 分钟后再试`,
      undefined,
      { 'Retry-After': String(seconds) },
    )
  }

  return {
    async login({ username, password, deviceId, ip }, now) {
      const keys = [`user:${username}`, `ip:${ip}`]
      await checkRateLimit(keys, now)
      const user = await store.findUserByUsername(username)
      let check: { ok: boolean; needsRehash: boolean }
      if (user) {
        check = await verifyPassword(password, user.passwordHash, passwordCost)
      } else {
        dummyHash ??= hashPassword('not a password', { cost: passwordCost })
        await verifyPassword(password, await dummyHash, passwordCost)
        check = { ok: false, needsRehash: false }
      }
      if (!user || !check.ok) {
        await store.transaction(async (tx) => {
          for (const key of keys) await tx.insertLoginFailure(key, now)
          await tx.pruneLoginFailures(now - LOGIN_WINDOW_MS)
        })
        throw new HttpError(401, 'invalid_credentials', '用户名或密码错误')
      }
      if (user.disabled) throw new HttpError(403, 'account_disabled', '此账号已停用，请联系管理员')
      const rehashed = check.needsRehash ? await hashPassword(password, { cost: passwordCost }) : null
      return store.transaction(async (tx) => {
        await tx.clearLoginFailures(keys[0]!)
        if (rehashed) await tx.updateUser(user.id, { passwordHash: rehashed })
        await tx.revokeSessions({ deviceId }, now, 'replaced')
        await tx.pruneExpiredSessions(now)
        const sessionId = randomUUID()
        await tx.insertSession({
          id: sessionId,
          userId: user.id,
          deviceId,
          createdAt: now,
          expiresAt: now + refreshTokenTtlMs,
        })
        await tx.touchDevice(deviceId, user.id, now)
        return issueTokens(tx, sessionId, user, now)
      })
    },

    async refresh(refreshToken, deviceId, now) {
      const outcome = await store.transaction(async (tx): Promise<LoginResponse | HttpError> => {
        const row = await tx.findRefreshToken(tokenHash(refreshToken))
        if (!row || row.revokedAt !== null) return unauthorized()
        if (row.rotatedAt !== null) {
          await tx.revokeSessions({ deviceId: row.deviceId }, now, 'refresh_token_reused')
          return unauthorized('登录凭证已被使用过，为安全起见已注销此设备的登录，请重新登录')
        }
        if (row.expiresAt <= now) return unauthorized('登录已过期，请重新登录')
        if (row.deviceId !== deviceId) return unauthorized('登录凭证不属于此设备，请重新登录')
        const user = await tx.getUser(row.userId)
        if (!user || user.disabled) {
          await tx.revokeSessions({ userId: row.userId }, now, 'disabled')
          return unauthorized('此账号已停用，请联系管理员')
        }
        await tx.markRefreshTokenRotated(row.tokenHash, now)
        // An access token just expired still answers token_expired for a while (requests in flight); older ones go.
        await tx.pruneSessionTokens(row.sessionId, now - accessTokenTtlMs, now)
        await tx.setSessionExpiry(row.sessionId, now + refreshTokenTtlMs)
        await tx.touchDevice(deviceId, user.id, now)
        return issueTokens(tx, row.sessionId, user, now)
      })
      if (outcome instanceof HttpError) throw outcome
      return outcome
    },

    async authenticate(accessToken, now) {
      const row = await store.findAccessToken(tokenHash(accessToken))
      if (!row || row.revokedAt !== null || row.user.disabled) return { status: 'invalid' }
      if (row.expiresAt <= now) return { status: 'expired' }
      const { disabled: _disabled, ...user } = row.user
      return {
        status: 'live',
        session: { id: row.sessionId, user, deviceId: row.deviceId, accessExpiresAt: row.expiresAt },
      }
    },

    async logout(accessToken, now) {
      const row = await store.findAccessToken(tokenHash(accessToken))
      if (row) await store.revokeSessions({ deviceId: row.deviceId }, now, 'logout')
    },
  }
}
