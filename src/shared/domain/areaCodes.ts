/**
 * Area codes: county = 6-digit GB/T 2260 code; town, village and grid each add 3 digits (a grid code has 15).
 * A code says where an area was made, not where it sits: the server stores each area's parent, so that a grid can
 * later move to another village without re-coding its records.
 */
export const AREA_LEVELS = ['county', 'town', 'village', 'grid'] as const
export type AreaLevel = (typeof AREA_LEVELS)[number]

/** The code of a parent's `index`th child (1–999). */
export function childCode(parent: string, index: number): string {
  if (!Number.isInteger(index) || index < 1 || index > 999)
    throw new Error(`area index out of range: ${index}`)
  return parent + String(index).padStart(3, '0')
}
