import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import { deviceIdFrom } from '../db/GridPatrolDb.ts'
import type { StoredSession } from '../db/GridPatrolDb.ts'
import type { SessionUser } from '#shared/schemas/api.ts'
import { AuthError, RequestError, TransportError } from '../sync/ports.ts'
import { getServices } from './services.ts'
import { useAreasStore } from './useAreasStore.ts'
import { useSyncStore } from './useSyncStore.ts'

export type LoginErrorCode =
  'invalid_credentials' | 'offline' | 'server' | 'unsynced_other_user' | 'invalid_request'

/** Why a login failed; `message` is Chinese, the UI may translate by `code`. */
export class LoginError extends Error {
  override name = 'LoginError'
  constructor(
    readonly code: LoginErrorCode,
    message: string,
  ) {
    super(message)
  }
}

export type LogoutResult = { ok: true } | { ok: false; reason: 'unsynced'; unsynced: number }

export const useSessionStore = defineStore('session', () => {
  const { db, transport, newId } = getServices()
  const session = shallowRef<StoredSession | null>(null)
  const deviceId = ref<string | null>(null)
  /** Set when sync got a 401: the session is kept (the app works offline on it) until the user logs in again. */
  const needsReauth = ref(false)

  /** Resolves once the stored session and the device id are loaded (await it before routing on `isLoggedIn`). */
  const ready: Promise<void> = (async () => {
    deviceId.value = await db.ensureDeviceId(deviceIdFrom(newId))
    session.value = (await db.getMeta('session')) ?? null
  })()

  const user = computed<SessionUser | null>(() => session.value?.user ?? null)
  const isLoggedIn = computed(() => session.value !== null)

  /** Local data of the previous user leaves the device; the device id, clock and op seq stay. */
  async function wipeLocalData(): Promise<void> {
    await db.transaction('rw', [db.records, db.outbox, db.refused, db.areas, db.meta], async () => {
      await Promise.all([db.records.clear(), db.outbox.clear(), db.refused.clear(), db.areas.clear()])
      await db.meta.bulkDelete(['session', 'pullCursor', 'lastSyncAt'])
    })
  }

  async function login(username: string, password: string): Promise<SessionUser> {
    await ready
    const previous = session.value
    if (previous && previous.user.username !== username) {
      const unsynced = await db.outbox.count()
      if (unsynced > 0) {
        throw new LoginError(
          'unsynced_other_user',
          `本机还有 ${previous.user.displayName} 的 ${unsynced} 条未同步数据，请先用该账号登录并同步`,
        )
      }
    }
    let result
    try {
      result = await transport.login({ username, password, deviceId: deviceId.value! })
    } catch (error) {
      if (error instanceof AuthError) throw new LoginError('invalid_credentials', '用户名或密码错误')
      if (error instanceof RequestError) throw new LoginError('invalid_request', error.message)
      if (error instanceof TransportError && error.status !== undefined) {
        throw new LoginError('server', '服务器暂时不可用，请稍后再试')
      }
      throw new LoginError('offline', '无法连接服务器，请检查网络后再试')
    }
    if (previous && previous.user.id !== result.user.id) await wipeLocalData()
    const next: StoredSession = { token: result.token, user: result.user }
    await db.setMeta('session', next)
    session.value = next
    needsReauth.value = false
    useSyncStore().resume()
    void useAreasStore().load()
    return result.user
  }

  /** Refuses while changes are unsynced (the UI shows the count and may ask again with `force`). */
  async function logout(options: { force?: boolean } = {}): Promise<LogoutResult> {
    const unsynced = await db.outbox.count()
    if (unsynced > 0 && !options.force) return { ok: false, reason: 'unsynced', unsynced }
    useSyncStore().stop()
    if (session.value && !needsReauth.value) await transport.logout().catch(() => undefined)
    await wipeLocalData()
    session.value = null
    needsReauth.value = false
    return { ok: true }
  }

  function markNeedsReauth(): void {
    needsReauth.value = true
  }

  return { user, isLoggedIn, deviceId, needsReauth, ready, login, logout, markNeedsReauth }
})
