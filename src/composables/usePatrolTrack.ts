/**
 * Patrol-track recording (巡查轨迹). Every GPS fix is written to `trackPoints` as it arrives, so a crash or a reload
 * loses nothing; the `track` record's `points` are brought up to date every FLUSH_EVERY points and on stop, and a
 * track left unfinished by a crash is completed by `recover()` (run on creation). Points are [lng, lat, t, accuracy].
 */
import { getCurrentScope, onScopeDispose, readonly, ref } from 'vue'
import type { LocalRecord } from '../db/GridPatrolDb.ts'
import { getServices } from '../stores/services.ts'
import { useRecordsStore } from '../stores/useRecordsStore.ts'

export const FLUSH_EVERY = 20
const MAX_POINTS = 20_000

export interface PatrolTrackOptions {
  geolocation?: Pick<Geolocation, 'watchPosition' | 'clearWatch'> | null
}

export function usePatrolTrack(options: PatrolTrackOptions = {}) {
  const services = getServices()
  const { db } = services
  const records = useRecordsStore()
  const geolocation =
    options.geolocation === undefined
      ? typeof navigator === 'undefined'
        ? null
        : (navigator.geolocation ?? null)
      : options.geolocation
  const recording = ref(false)
  const trackId = ref<string | null>(null)
  const pointCount = ref(0)
  /** The latest fix's accuracy in metres, for the UI. */
  const accuracy = ref<number | null>(null)
  const error = ref<string | null>(null)
  let watchId: number | null = null
  let sinceFlush = 0
  let writes: Promise<unknown> = Promise.resolve()

  async function pointsOf(id: string): Promise<[number, number, number, number][]> {
    const rows = await db.trackPoints.where('trackId').equals(id).sortBy('id')
    return rows.map((row) => row.point).slice(-MAX_POINTS)
  }

  async function flush(id: string, end?: number): Promise<void> {
    const points = await pointsOf(id)
    await records.update('track', id, end === undefined ? { points } : { points, endedAt: end })
  }

  function onPosition(position: GeolocationPosition): void {
    const id = trackId.value
    if (!id) return
    const { longitude, latitude, accuracy: metres } = position.coords
    const point: [number, number, number, number] = [
      longitude,
      latitude,
      Math.round(position.timestamp || services.now()),
      Math.min(100_000, Math.max(0, metres)),
    ]
    accuracy.value = metres
    pointCount.value++
    writes = writes.then(async () => {
      await db.trackPoints.add({ trackId: id, point })
      if (++sinceFlush >= FLUSH_EVERY) {
        sinceFlush = 0
        await flush(id)
      }
    })
  }

  /** Start recording a track in `gridId`; returns the track record's id. */
  async function start(gridId: string): Promise<string> {
    if (recording.value && trackId.value) return trackId.value
    if (!geolocation) throw new Error('定位不可用')
    const id = await records.create('track', { gridId, startedAt: services.now(), endedAt: null, points: [] })
    trackId.value = id
    pointCount.value = 0
    sinceFlush = 0
    error.value = null
    recording.value = true
    watchId = geolocation.watchPosition(onPosition, (failure) => (error.value = failure.message), {
      enableHighAccuracy: true,
      maximumAge: 5_000,
    })
    return id
  }

  /** Stop recording: the track record gets all its points and its end time. */
  async function stop(): Promise<void> {
    if (watchId !== null) geolocation?.clearWatch(watchId)
    watchId = null
    const id = trackId.value
    recording.value = false
    if (!id) return
    await writes
    await flush(id, services.now())
    await db.trackPoints.where('trackId').equals(id).delete()
    trackId.value = null
  }

  /** Complete tracks left unfinished by a crash or a reload (points from `trackPoints`, end = last point's time). */
  async function recover(): Promise<number> {
    const ids = [...new Set((await db.trackPoints.toArray()).map((row) => row.trackId))]
    let recovered = 0
    for (const id of ids) {
      if (id === trackId.value) continue
      const record: LocalRecord | undefined = await records.get(id)
      if (record && !record.deleted) {
        const points = await pointsOf(id)
        const end = points.at(-1)?.[2] ?? services.now()
        await records.update('track', id, { points, endedAt: end })
        recovered++
      }
      await db.trackPoints.where('trackId').equals(id).delete()
    }
    return recovered
  }

  if (getCurrentScope()) {
    onScopeDispose(() => {
      if (watchId !== null) geolocation?.clearWatch(watchId)
    })
  }

  return {
    recording: readonly(recording),
    trackId: readonly(trackId),
    pointCount: readonly(pointCount),
    accuracy: readonly(accuracy),
    error: readonly(error),
    start,
    stop,
    recover,
  }
}
