/**
 * The leader map's data, for MapView: every in-scope point read live from Dexie, indexed in the clustering worker,
 * and the clusters of the current viewport.
 *
 * Invariants:
 * - The index is rebuilt only when the points or the filter change; pans and zooms only query it.
 * - Changes are noticed through a live count per kind (cheap); the full read that follows is coalesced, at most one
 *   every RELOAD_GAP_MS while records keep changing, so a sync pulling 100 pages does not read 100 times.
 * - Viewport answers are latest-wins: an answer to an older viewport, or to an index since replaced, is dropped
 *   (a fast pan sends many queries).
 * - A worker that dies is replaced by the in-page engine, which is loaded again before it is queried.
 */
import { getCurrentScope, onScopeDispose, ref, shallowRef, watch } from 'vue'
import type { Ref } from 'vue'
import { useLiveQuery } from '../composables/useLiveQuery.ts'
import { getServices } from '../stores/services.ts'
import { createClusterClient } from './clusterClient.ts'
import type { ClusterClient } from './clusterClient.ts'
import type { ClusterView } from './clusterEngine.ts'
import type { IndexSummary } from './clusterProtocol.ts'
import type { MapFilter } from './mapFilter.ts'
import { liveRange } from '../db/recordQueries.ts'
import { loadMapPoints } from './loadMapPoints.ts'
import type { MapKind, MapRecordPoint } from './mapPoints.ts'
import type { MapViewport } from '../composables/useLeafletMap.ts'

/** The least time between two full reads of the points while records keep changing (a sync pulling pages). */
const RELOAD_GAP_MS = 1500

export function useClusterMap(
  kinds: Ref<readonly MapKind[]>,
  filter: Ref<MapFilter>,
  client: ClusterClient = createClusterClient(),
) {
  const { db, now } = getServices()
  const summary = shallowRef<IndexSummary | null>(null)
  const view = shallowRef<ClusterView>({ clusters: [], points: [] })
  /** True while points are being read or indexed. */
  const indexing = ref(true)
  const error = ref<string | null>(null)
  const points = shallowRef<MapRecordPoint[] | null>(null)
  /** A new value after every change to the records of the kinds shown (a cheap live count, not a full read). */
  const changed = useLiveQuery(
    () => Promise.all(kinds.value.map((kind) => liveRange(db, kind).count())),
    null,
    () => [...kinds.value],
  )
  let reading = false
  let again = false
  let timer: ReturnType<typeof setTimeout> | null = null
  let disposed = false
  /** Read every point again; changes during a read make one more read, RELOAD_GAP_MS after it. */
  async function reload() {
    if (reading) {
      again = true
      return
    }
    reading = true
    try {
      const list = await loadMapPoints(db, kinds.value)
      if (!disposed) points.value = list
    } catch (failure) {
      error.value = failure instanceof Error ? failure.message : String(failure)
    } finally {
      reading = false
      if (again && !disposed) {
        again = false
        timer = setTimeout(() => void reload(), RELOAD_GAP_MS)
      }
    }
  }
  let generation = 0
  let querySeq = 0
  let lastViewport: MapViewport | null = null

  async function reindex(load: boolean) {
    const list = points.value
    if (list === null) return
    const mine = ++generation
    indexing.value = true
    try {
      const plainFilter = JSON.parse(JSON.stringify(filter.value)) as MapFilter
      const result =
        load || client.lost
          ? await client.request({ type: 'load', points: list, filter: plainFilter, now: now() })
          : await client.request({ type: 'filter', filter: plainFilter, now: now() })
      if (mine !== generation) return
      summary.value = result
      error.value = null
      indexing.value = false
      if (lastViewport) await query(lastViewport)
    } catch (failure) {
      if (mine !== generation) return
      error.value = failure instanceof Error ? failure.message : String(failure)
      indexing.value = false
      if (client.lost) void reindex(true)
    }
  }

  /** Ask for the clusters of a viewport; the answer lands in `view` unless a newer query was sent meanwhile. */
  async function query(viewport: MapViewport) {
    lastViewport = viewport
    if (summary.value === null) return
    const mine = ++querySeq
    const indexed = generation
    try {
      const result = await client.request({ type: 'query', bbox: viewport.bbox, zoom: viewport.zoom })
      if (mine === querySeq && indexed === generation) view.value = result
    } catch (failure) {
      error.value = failure instanceof Error ? failure.message : String(failure)
      if (client.lost) void reindex(true)
    }
  }

  function expansionZoom(clusterId: number): Promise<number> {
    return client.request({ type: 'expand', clusterId })
  }

  function heat(): Promise<[number, number, number][]> {
    return client.request({ type: 'heat' })
  }

  watch(changed, () => void reload())
  watch(points, () => void reindex(true))
  watch(filter, () => void reindex(false), { deep: true })

  if (getCurrentScope()) {
    onScopeDispose(() => {
      disposed = true
      if (timer) clearTimeout(timer)
      client.dispose()
    })
  }

  return { points, summary, view, indexing, error, query, expansionZoom, heat }
}
