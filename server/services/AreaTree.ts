import type { Area } from '../store/SyncStore.ts'

/**
 * The area tree in memory (a county holds hundreds of areas at most), for the questions scoping asks: what lies under
 * a user's areas, and what lies above an area. Parent links, not codes, are the truth: a grid that moved to another
 * village keeps its code.
 */
export class AreaTree {
  private readonly byId: ReadonlyMap<string, Area>
  private readonly children = new Map<string, Area[]>()

  constructor(readonly areas: readonly Area[]) {
    this.byId = new Map(areas.map((a) => [a.id, a]))
    for (const area of areas) {
      if (area.parentId === null) continue
      this.children.set(area.parentId, [...(this.children.get(area.parentId) ?? []), area])
    }
  }

  get(id: string): Area | undefined {
    return this.byId.get(id)
  }

  /** The area's ancestors, nearest first (not including itself). */
  ancestorsOf(id: string): Area[] {
    const out: Area[] = []
    const seen = new Set<string>([id])
    let parentId = this.byId.get(id)?.parentId ?? null
    while (parentId !== null && !seen.has(parentId)) {
      const parent = this.byId.get(parentId)
      if (!parent) break
      out.push(parent)
      seen.add(parentId)
      parentId = parent.parentId
    }
    return out
  }

  /** The area and its ancestors' ids: what an audit entry about it is filed under. */
  pathOf(id: string): string[] {
    return [id, ...this.ancestorsOf(id).map((a) => a.id)]
  }

  /** Whether `id` is one of `roots` or lies under one of them. */
  covers(roots: readonly string[], id: string): boolean {
    return this.pathOf(id).some((a) => roots.includes(a))
  }

  /** Every area at or under one of `roots`, in id order. */
  subtree(roots: readonly string[]): Area[] {
    const out = new Map<string, Area>()
    const stack = roots.flatMap((id) => this.byId.get(id) ?? [])
    while (stack.length > 0) {
      const area = stack.pop()!
      if (out.has(area.id)) continue
      out.set(area.id, area)
      stack.push(...(this.children.get(area.id) ?? []))
    }
    return [...out.values()].sort((a, b) => a.id.localeCompare(b.id))
  }

  /** The subtree of `roots` and the ancestors of those roots (the path from the county down, for context). */
  visibleTo(roots: readonly string[]): Area[] {
    const out = new Map(this.subtree(roots).map((a) => [a.id, a]))
    for (const root of roots) for (const a of this.ancestorsOf(root)) out.set(a.id, a)
    return [...out.values()].sort((a, b) => a.id.localeCompare(b.id))
  }
}
