/**
 * The leader map's points: one compact, plain object per located record (household, place, incident), built from a
 * record's fields and nothing else, so the same code runs in the page, in the clustering worker and in Node tests.
 * Coordinates stay WGS-84 as stored; a GCJ-02 basemap converts only what is drawn (see basemaps.ts).
 */
import type { RecordKind } from '#shared/schemas/records.ts'

export const MAP_KINDS = ['household', 'place', 'incident'] as const satisfies readonly RecordKind[]
export type MapKind = (typeof MAP_KINDS)[number]

export interface MapRecordPoint {
  kind: MapKind
  id: string
  lng: number
  lat: number
  /** The record's grid (15-digit code). */
  grid: string
  /** An incident's status, null for households and places. */
  status: string | null
  /** An incident's category, null for households and places. */
  category: string | null
  urgency: string | null
  /** An incident's deadline (ms) once dispatched; overdue is derived from it at query time, never stored. */
  deadlineAt: number | null
  /** The time the date-range filter uses: an incident's reportedAt, else the record's last change (ms). */
  at: number
}

/** What mapPointOf needs of a stored record (LocalRecord has it all). */
export interface RecordLike {
  id: string
  kind: RecordKind
  gridId: string
  deleted: 0 | 1
  updatedAt: number
  fields: Record<string, unknown>
}

const str = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null)
const num = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null

export function isMapKind(kind: RecordKind): kind is MapKind {
  return (MAP_KINDS as readonly string[]).includes(kind)
}

/** The map point of a record, or null when it is deleted, of another kind or has no usable location. */
export function mapPointOf(record: RecordLike): MapRecordPoint | null {
  if (record.deleted || !isMapKind(record.kind)) return null
  const location = record.fields['location'] as { lat?: unknown; lng?: unknown } | null | undefined
  const lat = num(location?.lat)
  const lng = num(location?.lng)
  if (lat === null || lng === null || lat < -90 || lat > 90 || lng < -180 || lng > 180) return null
  const incident = record.kind === 'incident'
  return {
    kind: record.kind,
    id: record.id,
    lng,
    lat,
    grid: str(record.fields['gridId']) ?? record.gridId,
    status: incident ? str(record.fields['status']) : null,
    category: incident ? str(record.fields['category']) : null,
    urgency: incident ? str(record.fields['urgency']) : null,
    deadlineAt: incident ? num(record.fields['deadlineAt']) : null,
    at: (incident ? num(record.fields['reportedAt']) : null) ?? record.updatedAt,
  }
}
