import { polygonSchema, type Polygon } from '#shared/schemas/api.ts'

export type GeometryParse =
  { ok: true; geometry: Polygon | null } | { ok: false; problem: 'json' | 'notPolygon' }

/**
 * A grid boundary typed or pasted as GeoJSON: a Polygon, or a Feature holding one (what most tools export).
 * Empty text means no boundary. Only the shape is checked here; rings, self-intersections and overlaps are the
 * server's to judge (it names the other grid).
 */
export function parseGeometryText(text: string): GeometryParse {
  const trimmed = text.trim()
  if (trimmed === '') return { ok: true, geometry: null }
  let value: unknown
  try {
    value = JSON.parse(trimmed)
  } catch {
    return { ok: false, problem: 'json' }
  }
  const candidate =
    typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Feature'
      ? (value as { geometry?: unknown }).geometry
      : value
  const parsed = polygonSchema.safeParse(candidate)
  return parsed.success
    ? { ok: true, geometry: { type: 'Polygon', coordinates: parsed.data.coordinates } }
    : { ok: false, problem: 'notPolygon' }
}

export function geometryText(geometry: Polygon | null): string {
  return geometry ? JSON.stringify({ type: 'Polygon', coordinates: geometry.coordinates }) : ''
}
