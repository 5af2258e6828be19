import type { RecordKind } from '#shared/schemas/records.ts'

/** The kinds with their own tab, list, home count and map layer; members, visits, tracks and photos hang off them. */
export const MAIN_KINDS = ['household', 'place', 'incident'] as const satisfies readonly RecordKind[]
export type MainKind = (typeof MAIN_KINDS)[number]

export function isMainKind(kind: RecordKind): kind is MainKind {
  return (MAIN_KINDS as readonly string[]).includes(kind)
}
