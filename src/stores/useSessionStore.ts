import { liveQuery } from 'dexie'
import { defineStore } from 'pinia'
import { computed, onScopeDispose, ref, shallowRef } from 'vue'
import { deviceIdFrom } from '../db/GridPatrolDb.ts'
import { retireOutbox } from '../db/deviceClock.ts'
import type { StoredSession } from '../db/GridPatrolDb.ts'
import type { SessionUser } from '#shared/schemas/api.ts'
import { AuthError, RequestError, TransportError } from '../sync/ports.ts'
import { getServices } from './services.ts'
import { useAreasStore } from './useAreasStore.ts'
import { useSyncStore } from './useSyncStore.ts'

export type LoginErrorCode =
  | 'invalid_credentials'
  | 'offline'
  | 'server'
  | 'unsynced_other_user'
  | 'invalid_request'
  | 'too_many_attempts'
  | 'account_disabled'
  | 'no_session'

/** Why a login failed; `message` is Chinese, the UI may translate by `code`. */
export class LoginError extends Error {
  override name = 'LoginError'
  constructor(
    readonly code: LoginErrorCode,
    message: string,
    /** With `too_many_attempts`: how long the server asks to wait, when it said so. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message)
  }
}

export type LogoutResult = { ok: true } | { ok: false; reason: 'unsynced'; unsynced: number }

function loginErrorOf(error: unknown): LoginError {
  if (error instanceof AuthError) {
    return error.code === 'account_disabled'
      ? new LoginError('account_disabled', '该账号已停用，请联系管理员')
      : new LoginError('invalid_credentials', '用户名或密码错误')
  }
  if (error instanceof RequestError) {
    return error.code === 'account_disabled'
      ? new LoginError('account_disabled', '该账号已停用，请联系管理员')
      : new LoginError('invalid_request', error.message)
  }
  if (error instanceof TransportError && error.status === 429) {
    const wait = error.retryAfterSeconds
    const when = wait === undefined ? '稍后' : wait < 120 ? `${wait} 秒后` : `${Math.ceil(wait / 60)} 分钟后`
    return new LoginError('too_many_attempts', `登录尝试次数过多，请${when}再试`, wait)
  }
  if (error instanceof TransportError && error.status !== undefined) {
    return new LoginError('server', '服务器暂时不可用，请稍后再试')
  }
  return new LoginError('offline', '无法连接服务器，请检查网络后再试')
}

export const useSessionStore = defineStore('session', () => {
  const { db, transport, newId, isOnline } = getServices()
  const session = shallowRef<StoredSession | null>(null)
  const deviceId = ref<string | null>(null)
  /**
   * Set when the server no longer accepts the session (its refresh was refused): the cached user stays, the app
   * works offline on it and nothing queued is dropped, until `relogin` (or `login`) succeeds.
   */
  const needsReauth = ref(false)

  /** Resolves once the stored session and the device id are loaded (await it before routing on `isLoggedIn`). */
  const ready: Promise<void> = (async () => {
    deviceId.value = await db.ensureDeviceId(deviceIdFrom(newId))
    session.value = (await db.getMeta('session')) ?? null
  })()

  // Token rotations (a refresh), a wipe or another tab change the stored session: follow it.
  const watcher = liveQuery(async () => (await db.getMeta('session')) ?? null).subscribe({
    next: (stored) => {
      // (A failing `ready` is reported to whoever awaits it.)
      ready.then(
        () => {
          session.value = stored
        },
        () => undefined,
      )
    },
    error: (error: unknown) => console.error('session query failed', error),
  })
  onScopeDispose(() => watcher.unsubscribe())

  const user = computed<SessionUser | null>(() => session.value?.user ?? null)
  const isLoggedIn = computed(() => session.value !== null)

  /** Queued ops plus photos whose bytes the server does not hold yet: what a logout would lose. */
  async function unsyncedCount(): Promise<number> {
    const [ops, photos] = await Promise.all([
      db.outbox.count(),
      db.photoBlobs.where('uploaded').equals(0).count(),
    ])
    return ops + photos
  }

  /**
   * Local data of the previous user leaves the device; the device id, clock and op seq stay (meta is first raised
   * past the ops that go, which were their only record: see deviceClock.ts).
   */
  async function wipeLocalData(): Promise<void> {
    await db.transaction('rw', [...db.userDataTables(), db.meta], async () => {
      await retireOutbox(db, deviceIdFrom(newId))
      await Promise.all(db.userDataTables().map((table) => table.clear()))
      await db.meta.bulkDelete(['session', 'pullCursor', 'scopeKey', 'lastSyncAt'])
    })
  }

  async function login(username: string, password: string): Promise<SessionUser> {
    await ready
    const previous = session.value
    if (previous && previous.user.username !== username) {
      const unsynced = await unsyncedCount()
      if (unsynced > 0) {
        throw new LoginError(
          'unsynced_other_user',
          `本机还有 ${previous.user.displayName} 的 ${unsynced} 条未同步数据，请先用该账号登录并同步`,
        )
      }
    }
    // Made anew if a wipe removed it: the wiped phone logs in as a new device.
    const device = await db.ensureDeviceId(deviceIdFrom(newId))
    deviceId.value = device
    let result
    try {
      result = await transport.login({ username, password, deviceId: device })
    } catch (error) {
      throw loginErrorOf(error)
    }
    if (previous && previous.user.id !== result.user.id) await wipeLocalData()
    const next: StoredSession = { ...result }
    await db.setMeta('session', next)
    session.value = next
    needsReauth.value = false
    useSyncStore().resume()
    // The first login is the one moment the phone is surely online: its grids must be cached before the worker
    // walks off into the hills (the forms offer only cached grids).
    await useAreasStore().load()
    return result.user
  }

  /** After `needsReauth`: the same user on the same device logs in again; queued changes then sync. */
  async function relogin(password: string): Promise<SessionUser> {
    await ready
    const username = session.value?.user.username
    if (!username) throw new LoginError('no_session', '没有可恢复的登录，请重新登录')
    return login(username, password)
  }

  /**
   * Refuses while changes are unsynced (the UI shows the count and may ask again with `force`). Tells the server
   * when online, so that this device's refresh token is revoked.
   */
  async function logout(options: { force?: boolean } = {}): Promise<LogoutResult> {
    const unsynced = await unsyncedCount()
    if (unsynced > 0 && !options.force) return { ok: false, reason: 'unsynced', unsynced }
    useSyncStore().stop()
    if (session.value && !needsReauth.value && isOnline()) await transport.logout().catch(() => undefined)
    await wipeLocalData()
    session.value = null
    needsReauth.value = false
    return { ok: true }
  }

  function markNeedsReauth(): void {
    needsReauth.value = true
  }

  /** The device wiped itself (an admin asked): no session, and a new device id for the next login. */
  async function forgetAfterWipe(): Promise<void> {
    session.value = null
    needsReauth.value = false
    deviceId.value = await db.ensureDeviceId(deviceIdFrom(newId))
  }

  return {
    user,
    isLoggedIn,
    deviceId,
    needsReauth,
    ready,
    login,
    relogin,
    logout,
    markNeedsReauth,
    forgetAfterWipe,
  }
})
