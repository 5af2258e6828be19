import { defineStore, storeToRefs } from 'pinia'
import { computed, ref, shallowRef, watch } from 'vue'
import type { ConflictDecision, ConflictQueueItem } from '#shared/schemas/conflictQueue.ts'
import { isMaskedValue } from '#shared/domain/privacy.ts'
import { defaultConflictsApi } from '../components/conflicts/conflictsApi.ts'
import type { ConflictsApi } from '../components/conflicts/conflictsApi.ts'
import { RecordNotFoundError, ValidationError } from '../db/recordRepository.ts'
import { AuthError, RequestError, TransportError } from '../sync/ports.ts'
import { getServices } from './services.ts'
import { useRecordsStore } from './useRecordsStore.ts'
import { useSessionStore } from './useSessionStore.ts'
import { useSyncStore } from './useSyncStore.ts'

/** A decision the server has not acknowledged yet (kept across reloads, per user). */
export interface PendingDecision {
  recordId: string
  field: string
  loserStamp: string
  decision: ConflictDecision
}

export type QueueProblem = 'offline' | 'forbidden' | 'failed'
/** Why "恢复另一值" cannot be offered for a conflict, if it cannot. */
export type RestoreBlock = 'deleted' | 'masked' | null
export type DecideOutcome =
  { ok: true; sent: boolean } | { ok: false; reason: 'missing' | 'invalid' | 'failed' }

const PAGE = 50
const keyOf = (c: { recordId: string; field: string; loserStamp: string }) =>
  `${c.recordId}\u0000${c.field}\u0000${c.loserStamp}`
const itemKey = (item: ConflictQueueItem) =>
  keyOf({ recordId: item.recordId, field: item.field, loserStamp: item.lost.stamp })

let apiOverride: ConflictsApi | null = null
/** Tests swap in a fake API (before the store is first used); null goes back to the real one. */
export function setConflictsApi(api: ConflictsApi | null): void {
  apiOverride = api
}

function storageKey(userId: string): string {
  return `gp.conflicts.pending.${userId}`
}

function readPending(userId: string | undefined): PendingDecision[] {
  if (!userId) return []
  try {
    const text = globalThis.localStorage?.getItem(storageKey(userId))
    return text ? (JSON.parse(text) as PendingDecision[]) : []
  } catch {
    return []
  }
}

/**
 * The leaders' conflict review queue (冲突处理), read from the server when online.
 *
 * Invariants:
 * - 恢复另一值 is an ordinary local edit of the field (`records.update`): it works offline and syncs like any edit.
 *   Its decision ('restored') is sent only once the device's outbox is empty, i.e. after the edit reached the
 *   server; a decision not sent yet is kept (per user, across reloads) and retried after every sync.
 * - A decided conflict leaves the list at once; the server keeps the decision, so it never comes back.
 * - A masked value (a phone the role sees masked) cannot be written back, and a deleted record cannot be edited:
 *   those conflicts offer only 保留当前值.
 */
export const useConflictsStore = defineStore('conflicts', () => {
  const services = getServices()
  const api = apiOverride ?? defaultConflictsApi()
  const session = useSessionStore()
  const sync = useSyncStore()
  const { lastSyncAt, online, unsyncedCount } = storeToRefs(sync)

  const items = shallowRef<ConflictQueueItem[]>([])
  const total = ref<number | null>(null)
  const next = ref<number | null>(null)
  const loading = ref(false)
  const problem = ref<QueueProblem | null>(null)
  const pending = ref<PendingDecision[]>([])
  const sending = ref(false)

  const pendingKeys = computed(() => new Set(pending.value.map(keyOf)))
  /** The conflicts still to review (decisions waiting to be sent are no longer shown). */
  const open = computed(() => items.value.filter((item) => !pendingKeys.value.has(itemKey(item))))
  /** How many conflicts wait for review in the user's scope; null until the server was asked. */
  const openCount = computed(() =>
    total.value === null ? null : Math.max(0, total.value - pending.value.length),
  )

  /** Keep the waiting decisions for the user (the session is read from IndexedDB: wait for it). */
  async function savePending(): Promise<void> {
    await session.ready.catch(() => undefined)
    const userId = session.user?.id
    if (!userId) return
    try {
      globalThis.localStorage?.setItem(storageKey(userId), JSON.stringify(pending.value))
    } catch {
      // Storage full or unavailable: the decision stays in memory until sent.
    }
  }

  /** One call; a 401 lets a sync refresh the session (the one client that refreshes), then tries once more. */
  async function call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      if (!(error instanceof AuthError) || error.status !== 401) throw error
      if (!(await sync.syncNow())) throw error
      return fn()
    }
  }

  function problemOf(error: unknown): QueueProblem {
    if (error instanceof AuthError) {
      session.markNeedsReauth()
      return 'failed'
    }
    if (error instanceof RequestError) return error.status === 403 ? 'forbidden' : 'failed'
    if (error instanceof TransportError && error.status !== undefined) return 'failed'
    return 'offline'
  }

  /** The first page again. */
  async function load(): Promise<void> {
    if (!services.isOnline()) {
      problem.value = 'offline'
      return
    }
    loading.value = true
    try {
      const page = await call(() => api.queue({ limit: PAGE }))
      items.value = page.conflicts
      total.value = page.total
      next.value = page.next
      problem.value = null
    } catch (error) {
      problem.value = problemOf(error)
    } finally {
      loading.value = false
    }
  }

  /** Only the number of open conflicts (for the home screen's link); quiet when offline or refused. */
  async function loadCount(): Promise<void> {
    if (!services.isOnline()) return
    try {
      total.value = (await call(() => api.queue({ limit: 1 }))).total
    } catch {
      // The link shows no count; the conflicts screen says what went wrong.
    }
  }

  async function loadMore(): Promise<void> {
    if (next.value === null || loading.value) return
    loading.value = true
    try {
      const page = await call(() => api.queue({ limit: PAGE, before: next.value }))
      const seen = new Set(items.value.map((item) => item.id))
      items.value = [...items.value, ...page.conflicts.filter((item) => !seen.has(item.id))]
      total.value = page.total
      next.value = page.next
    } catch (error) {
      problem.value = problemOf(error)
    } finally {
      loading.value = false
    }
  }

  /** Send the decisions waiting; those the server refuses for good (404, 403, 400) are dropped. */
  async function flush(): Promise<void> {
    if (sending.value || pending.value.length === 0 || !services.isOnline()) return
    sending.value = true
    try {
      for (const decision of [...pending.value]) {
        // A restore's decision waits until its edit has left the device.
        if (decision.decision === 'restored' && unsyncedCount.value > 0) continue
        try {
          await call(() => api.resolve(decision))
        } catch (error) {
          if (!(error instanceof RequestError)) {
            if (error instanceof AuthError) session.markNeedsReauth()
            break
          }
        }
        pending.value = pending.value.filter((p) => keyOf(p) !== keyOf(decision))
        if (total.value !== null) total.value = Math.max(0, total.value - 1)
        items.value = items.value.filter((item) => itemKey(item) !== keyOf(decision))
        await savePending()
      }
    } finally {
      sending.value = false
    }
  }

  function restoreBlock(item: ConflictQueueItem): RestoreBlock {
    if (item.deleted || item.type === 'delete') return 'deleted'
    if (isMaskedValue(item.lost.value)) return 'masked'
    return null
  }

  /**
   * 保留当前值 or 恢复另一值. A restore first writes the lost value as an ordinary edit (offline too); then the
   * decision is queued and sent when it can be. `sent`: the server has it already.
   */
  async function decide(item: ConflictQueueItem, decision: ConflictDecision): Promise<DecideOutcome> {
    if (decision === 'restored') {
      if (restoreBlock(item) !== null) return { ok: false, reason: 'invalid' }
      try {
        await useRecordsStore().update(item.kind, item.recordId, { [item.field]: item.lost.value })
      } catch (error) {
        if (error instanceof RecordNotFoundError) return { ok: false, reason: 'missing' }
        if (error instanceof ValidationError) return { ok: false, reason: 'invalid' }
        return { ok: false, reason: 'failed' }
      }
    }
    const entry: PendingDecision = {
      recordId: item.recordId,
      field: item.field,
      loserStamp: item.lost.stamp,
      decision,
    }
    if (!pendingKeys.value.has(keyOf(entry))) pending.value = [...pending.value, entry]
    await savePending()
    if (decision === 'restored' && services.isOnline()) await sync.syncNow()
    await flush()
    return { ok: true, sent: !pendingKeys.value.has(keyOf(entry)) }
  }

  // The session is read from IndexedDB after start: the user's waiting decisions are loaded once it is known.
  watch(
    () => session.user?.id,
    (userId, previous) => {
      const stored = readPending(userId)
      // Another user logged in: their own decisions only. Otherwise keep what was decided before the user was known.
      const kept = previous === undefined ? pending.value : []
      const have = new Set(kept.map(keyOf))
      pending.value = [...kept, ...stored.filter((p) => !have.has(keyOf(p)))]
      if (previous !== undefined) {
        items.value = []
        total.value = null
        next.value = null
      }
      void flush()
    },
    { immediate: true },
  )

  // Decisions waiting for the network go out after the next sync, or when the signal comes back.
  watch([lastSyncAt, online, unsyncedCount], () => void flush())

  return {
    items,
    open,
    total,
    openCount,
    next,
    loading,
    problem,
    pending,
    load,
    loadCount,
    loadMore,
    flush,
    decide,
    restoreBlock,
  }
})
