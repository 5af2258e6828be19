/**
 * Device storage: asks once for persistent storage (so the browser does not evict offline records and photos under
 * pressure) and reports usage against the quota; `nearQuota` from 80 % on, so the UI warns before writes fail.
 */
import { computed, readonly, ref } from 'vue'

export const NEAR_QUOTA_RATIO = 0.8

export function useStorage(
  storage: StorageManager | null = typeof navigator === 'undefined' ? null : (navigator.storage ?? null),
) {
  const persisted = ref<boolean | null>(null)
  const usage = ref<number | null>(null)
  const quota = ref<number | null>(null)
  const ratio = computed(() => (usage.value !== null && quota.value ? usage.value / quota.value : null))
  const nearQuota = computed(() => ratio.value !== null && ratio.value >= NEAR_QUOTA_RATIO)

  /** Ask for persistent storage unless it is already granted; returns whether it is. */
  async function persist(): Promise<boolean> {
    if (!storage?.persist) return false
    const already = storage.persisted ? await storage.persisted() : false
    persisted.value = already || (await storage.persist())
    return persisted.value
  }

  /** Re-read usage and quota. */
  async function refresh(): Promise<void> {
    if (!storage?.estimate) return
    const estimate = await storage.estimate()
    usage.value = estimate.usage ?? null
    quota.value = estimate.quota ?? null
  }

  return {
    persisted: readonly(persisted),
    usage: readonly(usage),
    quota: readonly(quota),
    ratio,
    nearQuota,
    persist,
    refresh,
  }
}
