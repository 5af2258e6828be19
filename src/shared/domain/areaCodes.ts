/**
 * Area codes: county = 6-digit GB/T 2260 code; town, village and grid each add 3 digits (a grid code has 15).
 * The seed and the importers derive ancestors from the code; the server stores them per area so that a grid can
 * later move to another village without re-coding its records.
 */
export const AREA_LEVELS = ['county', 'town', 'village', 'grid'] as const
export type AreaLevel = (typeof AREA_LEVELS)[number]

const LENGTH: Record<AreaLevel, number> = { county: 6, town: 9, village: 12, grid: 15 }

export function levelOfCode(code: string): AreaLevel | null {
  if (!/^\d+$/.test(code)) return null
  return AREA_LEVELS.find((level) => LENGTH[level] === code.length) ?? null
}

/** The codes of an area's ancestors, from the county down (not including the area itself). */
export function ancestorCodes(code: string): string[] {
  const level = levelOfCode(code)
  if (!level) throw new Error(`not an area code: ${code}`)
  return AREA_LEVELS.slice(0, AREA_LEVELS.indexOf(level)).map((l) => code.slice(0, LENGTH[l]))
}

export function childCode(parent: string, index: number): string {
  if (!Number.isInteger(index) || index < 1 || index > 999)
    throw new Error(`area index out of range: ${index}`)
  return parent + String(index).padStart(3, '0')
}
