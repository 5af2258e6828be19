/**
 * Every incident and visit on the device, live (liveRange: complete, unlike the store's capped lists). A leader's
 * device holds their whole area, so the dashboard needs no server and works offline.
 */
import type { Ref } from 'vue'
import { useLiveQuery } from '../../composables/useLiveQuery.ts'
import { liveRange } from '../../db/recordQueries.ts'
import { getServices } from '../../stores/services.ts'
import type { StatsRecord } from '../../stats/dashboardStats.ts'

export interface DashboardData {
  incidents: StatsRecord[]
  visits: StatsRecord[]
}

export function useDashboardData(): Readonly<Ref<DashboardData | null>> {
  const { db } = getServices()
  return useLiveQuery<DashboardData | null>(async () => {
    const [incidents, visits] = await Promise.all([
      liveRange(db, 'incident').toArray(),
      liveRange(db, 'visit').toArray(),
    ])
    const slim = (rows: StatsRecord[]) => rows.map(({ id, fields }) => ({ id, fields }))
    return { incidents: slim(incidents), visits: slim(visits) }
  }, null)
}
