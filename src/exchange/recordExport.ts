/**
 * The map's filtered view as CSV rows and as GeoJSON. Values are exported as the device holds them: a role that
 * receives phone numbers masked (138****1234) exports them masked; nothing is unmasked for an export.
 * Coordinates stay WGS-84 as stored (GeoJSON's own datum); times are written in China Standard Time.
 * Pure: labels and `now` are passed in.
 */
import { CHINA_OFFSET_MS } from '#shared/domain/careVisits.ts'
import { isOverdue } from '#shared/domain/deadlines.ts'
import type { Incident, RecordKind } from '#shared/schemas/records.ts'
import type { CsvCell } from './csv.ts'

export interface ExportRecord {
  id: string
  kind: RecordKind
  gridId: string
  updatedAt: number
  fields: Record<string, unknown>
}

/** The CSV's columns, in order; headers come from `columnLabel`. */
export const EXPORT_COLUMNS = [
  'kind',
  'id',
  'gridId',
  'gridName',
  'title',
  'address',
  'status',
  'overdue',
  'category',
  'urgency',
  'reportedAt',
  'deadlineAt',
  'headName',
  'headPhone',
  'placeType',
  'contactName',
  'contactPhone',
  'riskLevel',
  'lat',
  'lng',
  'updatedAt',
] as const
export type ExportColumn = (typeof EXPORT_COLUMNS)[number]

export interface ExportLabels {
  columnLabel(column: ExportColumn): string
  /** The label of an enum value (`kind`, `status`, `category`, `urgency`, `placeType`, `riskLevel`, `overdue`). */
  valueLabel(column: ExportColumn, value: string): string
  gridName(gridId: string): string
}

const str = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null)
const num = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null

/** YYYY-MM-DD HH:mm in UTC+8. */
export function chinaTime(at: number | null): string | null {
  if (at === null) return null
  return new Date(at + CHINA_OFFSET_MS).toISOString().slice(0, 16).replace('T', ' ')
}

function overdueOf(record: ExportRecord, now: number): boolean {
  if (record.kind !== 'incident') return false
  const status = str(record.fields['status'])
  return (
    status !== null &&
    isOverdue({ status: status as Incident['status'], deadlineAt: num(record.fields['deadlineAt']) }, now)
  )
}

function locationOf(record: ExportRecord): { lat: number; lng: number } | null {
  const location = record.fields['location'] as { lat?: unknown; lng?: unknown } | null | undefined
  const lat = num(location?.lat)
  const lng = num(location?.lng)
  return lat === null || lng === null ? null : { lat, lng }
}

function cellOf(record: ExportRecord, column: ExportColumn, labels: ExportLabels, now: number): CsvCell {
  const f = record.fields
  const enumCell = (value: unknown) => {
    const text = str(value)
    return text === null ? null : labels.valueLabel(column, text)
  }
  switch (column) {
    case 'kind':
      return labels.valueLabel('kind', record.kind)
    case 'id':
      return record.id
    case 'gridId':
      return str(f['gridId']) ?? record.gridId
    case 'gridName':
      return labels.gridName(str(f['gridId']) ?? record.gridId)
    case 'title':
      return str(f['name']) ?? str(f['description']) ?? str(f['headName'])
    case 'address':
      return [str(f['address']), str(f['houseNumber'])].filter(Boolean).join(' ') || null
    case 'overdue':
      return record.kind === 'incident' ? labels.valueLabel('overdue', String(overdueOf(record, now))) : null
    case 'status':
    case 'category':
    case 'urgency':
    case 'riskLevel':
      return enumCell(f[column])
    case 'placeType':
      return record.kind === 'place' ? enumCell(f['type']) : null
    case 'reportedAt':
    case 'deadlineAt':
      return chinaTime(num(f[column]))
    case 'updatedAt':
      return chinaTime(record.updatedAt || null)
    case 'lat':
    case 'lng':
      return locationOf(record)?.[column] ?? null
    default:
      return str(f[column])
  }
}

export function exportRows(
  records: readonly ExportRecord[],
  labels: ExportLabels,
  now: number,
): { header: string[]; rows: CsvCell[][] } {
  return {
    header: EXPORT_COLUMNS.map((column) => labels.columnLabel(column)),
    rows: records.map((record) => EXPORT_COLUMNS.map((column) => cellOf(record, column, labels, now))),
  }
}

export interface GeoJsonFeature {
  type: 'Feature'
  id: string
  geometry: { type: 'Point'; coordinates: [number, number] } | null
  properties: Record<string, unknown>
}

export interface GeoJsonFeatureCollection {
  type: 'FeatureCollection'
  features: GeoJsonFeature[]
}

/**
 * A FeatureCollection (RFC 7946): one Point per record ([lng, lat], WGS-84), its fields as properties (less the
 * location, which is the geometry), with `kind`, `id` and, for incidents, the derived `overdue`.
 */
export function toGeoJson(records: readonly ExportRecord[], now: number): GeoJsonFeatureCollection {
  return {
    type: 'FeatureCollection',
    features: records.map((record) => {
      const location = locationOf(record)
      const { location: _location, ...fields } = record.fields
      return {
        type: 'Feature',
        id: record.id,
        geometry: location ? { type: 'Point', coordinates: [location.lng, location.lat] } : null,
        properties: {
          kind: record.kind,
          id: record.id,
          ...fields,
          ...(record.kind === 'incident' ? { overdue: overdueOf(record, now) } : {}),
        },
      }
    }),
  }
}
