import { area } from '@turf/area'
import { featureCollection, polygon as turfPolygon } from '@turf/helpers'
import { intersect } from '@turf/intersect'
import { kinks } from '@turf/kinks'
import type { Area, GeoPolygon } from '../store/SyncStore.ts'

/** Overlaps below this many square metres are rounding along a shared edge, not an overlap. */
export const OVERLAP_TOLERANCE_M2 = 1

export type GridPolygonCheck =
  { ok: true; polygon: GeoPolygon; centroid: { lat: number; lng: number } } | { ok: false; message: string }

const isNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x)

/**
 * A grid boundary must be a GeoJSON Polygon in WGS-84 ([lng, lat]): closed rings of at least 4 positions, inside the
 * coordinate ranges, not crossing itself and with an area. The message says what is wrong, in Chinese.
 */
export function checkGridPolygon(value: unknown): GridPolygonCheck {
  const fail = (message: string): GridPolygonCheck => ({ ok: false, message })
  if (typeof value !== 'object' || value === null) return fail('边界应为 GeoJSON Polygon 对象')
  const { type, coordinates } = value as { type?: unknown; coordinates?: unknown }
  if (type !== 'Polygon') return fail(`边界应为 GeoJSON Polygon，而不是 ${JSON.stringify(type ?? null)}`)
  if (!Array.isArray(coordinates) || coordinates.length === 0) return fail('边界缺少坐标环 (coordinates)')
  const rings: [number, number][][] = []
  for (const [r, ring] of coordinates.entries()) {
    const which = r === 0 ? '外环' : `第 ${r} 个内环`
    if (!Array.isArray(ring) || ring.length < 4) return fail(`${which}至少需要 4 个坐标点（首尾相同）`)
    const positions: [number, number][] = []
    for (const [i, position] of ring.entries()) {
      if (
        !Array.isArray(position) ||
        position.length < 2 ||
        position.length > 3 ||
        !position.every(isNumber)
      ) {
        return fail(`${which}第 ${i + 1} 个坐标应为 [经度, 纬度]`)
      }
      const [lng, lat] = position as [number, number]
      if (lng < -180 || lng > 180) return fail(`${which}第 ${i + 1} 个坐标的经度 ${lng} 超出 [-180, 180]`)
      if (lat < -90 || lat > 90) return fail(`${which}第 ${i + 1} 个坐标的纬度 ${lat} 超出 [-90, 90]`)
      positions.push([lng, lat])
    }
    const first = positions[0]!
    const last = positions[positions.length - 1]!
    if (first[0] !== last[0] || first[1] !== last[1])
      return fail(`${which}未闭合：最后一个坐标应与第一个相同`)
    rings.push(positions)
  }
  const polygon: GeoPolygon = { type: 'Polygon', coordinates: rings }
  if (kinks(polygon).features.length > 0) return fail('边界自相交：边线不能互相交叉')
  if (area(polygon) < OVERLAP_TOLERANCE_M2) return fail('边界面积为零')
  const outer = rings[0]!.slice(0, -1)
  const centroid = {
    lat: round(outer.reduce((s, p) => s + p[1], 0) / outer.length),
    lng: round(outer.reduce((s, p) => s + p[0], 0) / outer.length),
  }
  return { ok: true, polygon, centroid }
}

const round = (x: number) => Math.round(x * 1e6) / 1e6

/** The first grid among `others` whose polygon overlaps `polygon` by more than the tolerance (touching is fine). */
export function findOverlappingGrid(polygon: GeoPolygon, others: readonly Area[]): Area | null {
  const mine = turfPolygon(polygon.coordinates)
  for (const other of others) {
    if (other.level !== 'grid' || other.geometry === null) continue
    const shared = intersect(featureCollection([mine, turfPolygon(other.geometry.coordinates)]))
    if (shared && area(shared) > OVERLAP_TOLERANCE_M2) return other
  }
  return null
}
