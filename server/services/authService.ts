import { createHash, randomBytes } from 'node:crypto'
import type { Session, SyncStore, User } from '../store/SyncStore.ts'
import { hashPassword, verifyPassword } from './password.ts'

export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000

export interface AuthService {
  /** A new session for the device, or null when the username or password is wrong. */
  login(
    username: string,
    password: string,
    deviceId: string,
    now: number,
  ): Promise<{ token: string; user: User } | null>
  authenticate(token: string, now: number): Promise<Session | null>
  logout(token: string): Promise<void>
}

/** Only the token's SHA-256 is stored: a leaked database holds no usable sessions. */
export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex')

export function createAuthService({ store }: { store: SyncStore }): AuthService {
  // Verifying against a throwaway hash for unknown users keeps their answer as slow as a wrong password's.
  let dummyHash: Promise<string> | null = null

  return {
    async login(username, password, deviceId, now) {
      const user = await store.findUserByUsername(username)
      if (!user) {
        dummyHash ??= hashPassword('not a password')
        await verifyPassword(password, await dummyHash)
        return null
      }
      if (!(await verifyPassword(password, user.passwordHash))) return null
      const token = randomBytes(32).toString('base64url')
      await store.transaction(async (tx) => {
        await tx.touchDevice(deviceId, user.id, now)
        await tx.insertSession({
          tokenHash: tokenHash(token),
          userId: user.id,
          deviceId,
          createdAt: now,
          expiresAt: now + SESSION_TTL_MS,
        })
      })
      const { passwordHash: _hash, ...publicUser } = user
      return { token, user: publicUser }
    },

    authenticate(token, now) {
      return store.findSession(tokenHash(token), now)
    },

    logout(token) {
      return store.deleteSession(tokenHash(token))
    },
  }
}
