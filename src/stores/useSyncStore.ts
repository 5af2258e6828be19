import { defineStore } from 'pinia'
import { computed, onScopeDispose, ref, shallowRef } from 'vue'
import type { RecordKind } from '#shared/schemas/records.ts'
import type { RefusalCode } from '#shared/sync/protocol.ts'
import { useLiveQuery } from '../composables/useLiveQuery.ts'
import { useOnline } from '../composables/useOnline.ts'
import { createDexieLocalStore } from '../db/dexieLocalStore.ts'
import { createRecordRepository } from '../db/recordRepository.ts'
import type { RefusedOp } from '../db/GridPatrolDb.ts'
import { SyncEngine } from '../sync/SyncEngine.ts'
import { createPhotoUploader } from '../sync/photoUploader.ts'
import type { PhotoProgress } from '../sync/photoUploader.ts'
import { SyncScheduler } from '../sync/SyncScheduler.ts'
import { AuthError, RequestError, TransportError } from '../sync/ports.ts'
import type { SyncProgress } from '../sync/ports.ts'
import { getServices } from './services.ts'
import { useAreasStore } from './useAreasStore.ts'
import { useSessionStore } from './useSessionStore.ts'

export interface RefusedItem {
  seq: number
  type: 'put' | 'delete'
  kind: RecordKind
  recordId: string
  code: RefusalCode
  reason: string
  field?: string
  refusedAt: number
}

/** What went wrong in the last sync, for the UI to word: network (offline/timeout), server (5xx), auth (401)… */
export type SyncErrorKind = 'network' | 'server' | 'auth' | 'request' | 'unknown'

function toItem(op: RefusedOp): RefusedItem {
  const item: RefusedItem = {
    seq: op.seq,
    type: op.type,
    kind: op.kind,
    recordId: op.id,
    code: op.code,
    reason: op.reason,
    refusedAt: op.refusedAt,
  }
  if (op.field !== undefined) item.field = op.field
  return item
}

function errorKind(error: unknown): SyncErrorKind {
  if (error instanceof AuthError) return 'auth'
  if (error instanceof TransportError) return error.status === undefined ? 'network' : 'server'
  if (error instanceof RequestError) return 'request'
  return 'unknown'
}

export const useSyncStore = defineStore('sync', () => {
  const services = getServices()
  const { db } = services
  const online = useOnline()
  const unsyncedCount = useLiveQuery(() => db.outbox.count(), 0)
  const refusedRows = useLiveQuery(() => db.refused.toArray(), [] as RefusedOp[])
  const refused = computed(() => refusedRows.value.map(toItem))
  const lastSyncAt = useLiveQuery(async () => (await db.getMeta('lastSyncAt')) ?? null, null as number | null)
  const syncing = ref(false)
  const progress = shallowRef<SyncProgress | null>(null)
  const lastError = ref<string | null>(null)
  const lastErrorKind = ref<SyncErrorKind | null>(null)
  /** An admin wiped this device: its data and session are gone; the UI shows the login screen with a notice. */
  const wiped = ref(false)
  /** How many records left the device at the last scope change (the user was reassigned or a grid moved). */
  const lastEvicted = ref(0)

  /** The photo being uploaded and how far (null when none). */
  const photoProgress = shallowRef<PhotoProgress | null>(null)
  /** Photos whose bytes the server does not hold completely yet. */
  const pendingPhotos = useLiveQuery(() => db.photoBlobs.where('uploaded').equals(0).count(), 0)
  const uploader = createPhotoUploader({
    db,
    fetch: services.photoFetch,
    token: async () => (await db.getMeta('session'))?.accessToken ?? null,
    onProgress: (next) => {
      photoProgress.value = next
    },
  })

  /** Photo bytes go after the records (the server serves a photo once its record is in scope); never fatal. */
  async function uploadPhotos(): Promise<void> {
    try {
      await uploader.uploadPending()
    } catch (error) {
      console.warn('photo upload failed', error)
    } finally {
      photoProgress.value = null
    }
  }

  const repository = createRecordRepository(db, services)
  const engine = new SyncEngine({
    store: createDexieLocalStore(db, services),
    transport: services.transport,
    now: services.now,
  })

  async function run(): Promise<void> {
    const session = useSessionStore()
    await session.ready
    if (!session.isLoggedIn) return
    syncing.value = true
    try {
      const summary = await engine.sync((next) => {
        progress.value = next
      })
      lastError.value = null
      lastErrorKind.value = null
      if (summary.wiped) {
        wiped.value = true
        scheduler.stop()
        await session.forgetAfterWipe()
        return
      }
      if (summary.rebuilt) {
        lastEvicted.value = summary.evicted
        // The areas the user may see changed with the scope.
        void useAreasStore().load()
      }
      await uploadPhotos()
    } catch (error) {
      lastError.value = error instanceof Error ? error.message : String(error)
      lastErrorKind.value = errorKind(error)
      if (error instanceof AuthError) session.markNeedsReauth()
      throw error
    } finally {
      syncing.value = false
      progress.value = null
    }
  }

  const scheduler = new SyncScheduler({
    run,
    random: services.random,
    isOnline: services.isOnline,
    connectivity: typeof window === 'undefined' ? null : window,
    visibility: typeof document === 'undefined' ? null : document,
    ...services.scheduler,
  })
  onScopeDispose(() => scheduler.stop())

  /** Start syncing on the schedule (on start, online, visible, timer, after changes). */
  function start(): void {
    scheduler.start()
    void useSessionStore().ready.then(() => {
      if (useSessionStore().isLoggedIn) void useAreasStore().load()
    })
  }

  function stop(): void {
    scheduler.stop()
  }

  /** Sync now; resolves with whether it succeeded (the error is in `lastError`). */
  function syncNow(): Promise<boolean> {
    return scheduler.runNow()
  }

  /** A local change was made: sync shortly. */
  function nudge(): void {
    scheduler.nudge()
  }

  /** After the user logged in (again). */
  function resume(): void {
    wiped.value = false
    scheduler.resume()
    scheduler.start()
  }

  /** Accept a refusal: the op is dropped and its local change undone (where nothing wrote over it since). */
  function dismissRefused(seq: number): Promise<void> {
    return repository.dismissRefused(seq)
  }

  /** Queue a refused op again (e.g. after the phone's clock was fixed). */
  async function retryRefused(seq: number): Promise<boolean> {
    const queued = await repository.retryRefused(seq)
    if (queued) nudge()
    return queued
  }

  return {
    online,
    unsyncedCount,
    refused,
    lastSyncAt,
    syncing,
    progress,
    lastError,
    lastErrorKind,
    wiped,
    lastEvicted,
    photoProgress,
    pendingPhotos,
    start,
    stop,
    syncNow,
    nudge,
    resume,
    dismissRefused,
    retryRefused,
  }
})
