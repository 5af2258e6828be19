import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { useLiveQuery } from '../composables/useLiveQuery.ts'
import type { AreaRow } from '../db/GridPatrolDb.ts'
import type { AppConfig } from '#shared/schemas/api.ts'
import { getServices } from './services.ts'
import { useSessionStore } from './useSessionStore.ts'

export type GridArea = AreaRow & { level: 'grid' }

export const useAreasStore = defineStore('areas', () => {
  const { db, transport, isOnline } = getServices()
  /** Every cached area (county, towns, villages, grids): what the server last sent, also offline. */
  const areas = useLiveQuery(() => db.areas.toArray(), [] as AreaRow[])
  const config = useLiveQuery(async () => (await db.getMeta('config')) ?? null, null as AppConfig | null)
  const loading = ref(false)
  const error = ref<string | null>(null)

  const byId = computed(() => new Map(areas.value.map((area) => [area.id, area])))
  /** Grids sorted by code; `geometry` is null for a grid without a drawn boundary. */
  const grids = computed(() =>
    areas.value
      .filter((area): area is GridArea => area.level === 'grid')
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  )

  /** The area and its ancestors' ids, the area first. */
  function lineage(id: string): string[] {
    const ids: string[] = []
    for (
      let at = byId.value.get(id);
      at && ids.length < 8;
      at = at.parentId ? byId.value.get(at.parentId) : undefined
    ) {
      ids.push(at.id)
    }
    return ids
  }

  /** The grids the logged-in user works in: those assigned to them or under an area assigned to them. */
  const gridsForUser = computed(() => {
    const user = useSessionStore().user
    if (!user) return []
    const assigned = new Set(user.areaIds)
    return grids.value.filter((grid) => lineage(grid.id).some((id) => assigned.has(id)))
  })

  function nameOf(id: string): string | undefined {
    return byId.value.get(id)?.name
  }

  /** Refresh areas and config from the server (when online); the cache stays as it was on failure. */
  async function load(): Promise<boolean> {
    if (!isOnline()) return false
    loading.value = true
    try {
      const session = useSessionStore()
      await session.ready
      const fetchedConfig = await transport.fetchConfig()
      await db.setMeta('config', fetchedConfig)
      if (session.isLoggedIn) {
        const fetched = await transport.fetchAreas()
        await db.transaction('rw', db.areas, async () => {
          await db.areas.clear()
          await db.areas.bulkPut(fetched)
        })
      }
      error.value = null
      return true
    } catch (failure) {
      error.value = failure instanceof Error ? failure.message : String(failure)
      return false
    } finally {
      loading.value = false
    }
  }

  return { areas, grids, gridsForUser, config, loading, error, byId, lineage, nameOf, load }
})
