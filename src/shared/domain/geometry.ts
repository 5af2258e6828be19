/**
 * Point-in-polygon for grid boundaries (GeoJSON Polygon, WGS-84, positions [lng, lat]).
 *
 * Invariants:
 * - Even-odd ray casting over every ring, so a point inside a hole (an inner ring) is outside the polygon.
 * - A point on an edge or a vertex (within BORDER_EPSILON degrees, about a centimetre) counts as inside: the check
 *   only feeds a warning, and GPS drifts near borders, so a border point must not raise it.
 * - Rings may be open or closed (last position equal to the first); malformed positions are skipped, never thrown on.
 * - Grids are small (a village), so planar maths on degrees is exact enough; no projection is done.
 */

export interface LngLat {
  lng: number
  lat: number
}

/** The GeoJSON Polygon shape this module reads (the stored area geometry). */
export interface PolygonGeometry {
  type: 'Polygon'
  coordinates: readonly (readonly (readonly number[])[])[]
}

/** Degrees within which a point counts as lying on an edge (≈ 1 cm). */
export const BORDER_EPSILON = 1e-7

type Position = readonly [number, number]

function positionsOf(ring: readonly (readonly number[])[]): Position[] {
  const positions: Position[] = []
  for (const position of ring) {
    const [lng, lat] = position
    if (typeof lng === 'number' && typeof lat === 'number' && Number.isFinite(lng) && Number.isFinite(lat))
      positions.push([lng, lat])
  }
  return positions
}

function onSegment(point: LngLat, a: Position, b: Position): boolean {
  const [ax, ay] = a
  const [bx, by] = b
  const dx = bx - ax
  const dy = by - ay
  const lengthSquared = dx * dx + dy * dy
  const t = lengthSquared === 0 ? 0 : ((point.lng - ax) * dx + (point.lat - ay) * dy) / lengthSquared
  const clamped = Math.max(0, Math.min(1, t))
  const nearestX = ax + clamped * dx
  const nearestY = ay + clamped * dy
  return Math.hypot(point.lng - nearestX, point.lat - nearestY) <= BORDER_EPSILON
}

/** Whether `point` lies inside `polygon` (holes excluded, borders included); false for a polygon without rings. */
export function pointInPolygon(point: LngLat, polygon: PolygonGeometry): boolean {
  let inside = false
  for (const ring of polygon.coordinates) {
    const positions = positionsOf(ring)
    if (positions.length < 3) continue
    for (let i = 0, j = positions.length - 1; i < positions.length; j = i++) {
      const a = positions[i]!
      const b = positions[j]!
      if (onSegment(point, a, b)) return true
      const [ax, ay] = a
      const [bx, by] = b
      // The edge straddles the point's latitude, and crosses the ray going east from the point.
      if (ay > point.lat !== by > point.lat && point.lng < ((bx - ax) * (point.lat - ay)) / (by - ay) + ax)
        inside = !inside
    }
  }
  return inside
}
