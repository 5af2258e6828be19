import type { RecordKind } from '#shared/schemas/records.ts'

/** One colour per record kind, shared by markers, layer toggles and the legend. */
export const KIND_COLORS: Record<RecordKind, string> = {
  household: '#1677ff',
  place: '#fa8c16',
  incident: '#f5222d',
  person: '#1677ff',
  visit: '#13c2c2',
  track: '#722ed1',
  photo: '#8c8c8c',
}

export const GRID_COLOR = '#389e0d'

/** The grid being drawn or edited in the admin screens. */
export const EDIT_COLOR = '#1677ff'
