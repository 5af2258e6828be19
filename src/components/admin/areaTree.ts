/**
 * The area tree as the admin screens show it: built from `parentId`, not from code prefixes, because a grid that
 * moved to another village keeps its code (its records and its users' assignments stay valid).
 */
import type { Area } from '#shared/schemas/api.ts'
import { AREA_LEVELS, type AreaLevel } from '#shared/domain/areaCodes.ts'

export interface AreaNode {
  area: Area
  depth: number
  /** The names from the root down to this area's parent. */
  path: string[]
}

const byId = (a: Area, b: Area) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** Depth-first, children sorted by code; areas whose parent is not listed are roots. */
export function flattenAreaTree(areas: readonly Area[]): AreaNode[] {
  const ids = new Set(areas.map((area) => area.id))
  const children = new Map<string | null, Area[]>()
  for (const area of areas) {
    const parent = area.parentId && ids.has(area.parentId) ? area.parentId : null
    const list = children.get(parent) ?? []
    list.push(area)
    children.set(parent, list)
  }
  const out: AreaNode[] = []
  const seen = new Set<string>()
  const walk = (parent: string | null, depth: number, path: string[]) => {
    for (const area of (children.get(parent) ?? []).sort(byId)) {
      if (seen.has(area.id)) continue
      seen.add(area.id)
      out.push({ area, depth, path })
      walk(area.id, depth + 1, [...path, area.name])
    }
  }
  walk(null, 0, [])
  return out
}

/** The level a child of `level` has, or null under a grid. */
export function childLevel(level: AreaLevel): AreaLevel | null {
  return AREA_LEVELS[AREA_LEVELS.indexOf(level) + 1] ?? null
}

/** The next free 3-digit suffix under `parent` (001 when it has no child yet), or null when all 999 are taken. */
export function nextChildSuffix(areas: readonly Area[], parentId: string): string | null {
  const taken = new Set(
    areas
      .filter((area) => area.id.length === parentId.length + 3 && area.id.startsWith(parentId))
      .map((area) => area.id.slice(-3)),
  )
  for (let i = 1; i <= 999; i++) {
    const suffix = String(i).padStart(3, '0')
    if (!taken.has(suffix)) return suffix
  }
  return null
}
