/**
 * The one place where the device's services are wired: which database, which transport, which clock and which
 * randomness. Stores take them from here, so tests swap in a fake-indexeddb database and a fake transport with
 * `setServices` before the stores are first used.
 * The default transport and admin API share one API client, so a token refresh is single-flight across both; the
 * client reads the session from whatever database is current when it runs.
 */
import { v7 } from 'uuid'
import { GridPatrolDb, deviceIdFrom } from '../db/GridPatrolDb.ts'
import type { StoredSession } from '../db/GridPatrolDb.ts'
import { browserShrinkImage } from '../db/photoStore.ts'
import type { ShrinkImage } from '../db/photoStore.ts'
import { createAdminApi } from '../sync/adminApi.ts'
import type { AdminApi } from '../sync/adminApi.ts'
import { createApiClient } from '../sync/apiClient.ts'
import type { SessionTokenStore } from '../sync/apiClient.ts'
import { createHttpTransport } from '../sync/httpTransport.ts'
import type { HttpTransport } from '../sync/httpTransport.ts'
import { createWorkflowApi } from '../sync/workflowApi.ts'
import type { WorkflowApi } from '../sync/workflowApi.ts'

export interface SchedulerTuning {
  intervalMs: number
  nudgeDelayMs: number
  backoffBaseMs: number
  backoffMaxMs: number
}

export interface Services {
  db: GridPatrolDb
  transport: HttpTransport
  admin: AdminApi
  /** The closed loop's online reads (handler list, timeline). */
  workflow: WorkflowApi
  now: () => number
  /** Uniform in [0, 1). */
  random: () => number
  /** Record ids (UUIDv7). */
  newId: () => string
  isOnline: () => boolean
  scheduler: SchedulerTuning
  /** How many records of each kind the live lists hold (newest first); counts are always complete. */
  listLimit: number
  /** Shrinks a photo before it is kept (a fake in Node tests, where DOM image APIs are missing). */
  shrinkImage: ShrinkImage
  /** The fetch used for photo bytes (upload and display). */
  photoFetch: typeof globalThis.fetch
}

function cryptoRandom(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]! / 2 ** 32
}

/** The session's tokens in `meta`, for an API client. Rotated tokens only replace the same user's session. */
export function sessionTokenStore(db: () => GridPatrolDb, newId: () => string): SessionTokenStore {
  return {
    async tokens() {
      const session = await db().getMeta('session')
      return session ? { accessToken: session.accessToken, refreshToken: session.refreshToken } : null
    },
    async save(response) {
      const target = db()
      await target.transaction('rw', target.meta, async () => {
        const current = await target.getMeta('session')
        // Logged out (or another user logged in) while the refresh was under way: do not bring a session back.
        if (!current || current.user.id !== response.user.id) return
        const next: StoredSession = { ...response }
        await target.setMeta('session', next)
      })
    },
    deviceId: () => db().ensureDeviceId(deviceIdFrom(newId)),
  }
}

function defaults(): Services {
  const db = new GridPatrolDb()
  const newId = () => v7()
  const client = createApiClient({
    session: sessionTokenStore(
      () => getServices().db,
      () => getServices().newId(),
    ),
  })
  return {
    db,
    transport: createHttpTransport(client),
    admin: createAdminApi(client),
    workflow: createWorkflowApi(client),
    now: () => Date.now(),
    random: cryptoRandom,
    newId,
    isOnline: () => (typeof navigator === 'undefined' ? true : navigator.onLine),
    scheduler: { intervalMs: 60_000, nudgeDelayMs: 3_000, backoffBaseMs: 5_000, backoffMaxMs: 300_000 },
    listLimit: 2_000,
    shrinkImage: browserShrinkImage,
    photoFetch: (input, init) => globalThis.fetch(input, init),
  }
}

let current: Services | null = null

export function getServices(): Services {
  current ??= defaults()
  return current
}

/** Replace some services (tests). Call before the stores are first used, or with a fresh Pinia after. */
export function setServices(overrides: Partial<Services>): Services {
  current = { ...getServices(), ...overrides }
  return current
}

export function resetServices(): void {
  current = null
}
