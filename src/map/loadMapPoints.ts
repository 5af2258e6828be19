/**
 * Every in-scope located record as a map point, read straight from Dexie on the [kind+deleted+updatedAt] index
 * (the stores' lists are capped at `listLimit`, far below a leader's 100,000 points). Records are turned into
 * compact points one by one while the cursor walks, so the full records are never all held at once.
 */
import { liveRange } from '../db/recordQueries.ts'
import type { GridPatrolDb } from '../db/GridPatrolDb.ts'
import { mapPointOf } from './mapPoints.ts'
import type { MapKind, MapRecordPoint } from './mapPoints.ts'

export async function loadMapPoints(db: GridPatrolDb, kinds: readonly MapKind[]): Promise<MapRecordPoint[]> {
  const points: MapRecordPoint[] = []
  for (const kind of kinds) {
    await liveRange(db, kind).each((record) => {
      const point = mapPointOf(record)
      if (point) points.push(point)
    })
  }
  return points
}

/** One record's fields for its popup (null when it is gone or deleted). */
export async function loadRecordFields(
  db: GridPatrolDb,
  id: string,
): Promise<Record<string, unknown> | null> {
  const record = await db.records.get(id)
  return record && !record.deleted ? record.fields : null
}
