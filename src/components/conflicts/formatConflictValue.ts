type Translate = (key: string) => string
type Has = (key: string) => boolean

/** Fields whose values are codes with labels under `enums.<group>` (the field name, unless mapped here). */
const ENUM_GROUPS: Readonly<Record<string, string>> = {
  tags: 'careTag',
  type: 'placeType',
}

function isPoint(value: object): value is { lat: number; lng: number } {
  const v = value as Record<string, unknown>
  return typeof v.lat === 'number' && typeof v.lng === 'number'
}

/**
 * A conflict's value as plain text for the card (set as text, never as HTML): codes as their labels, a point as
 * its coordinates, a list joined, nothing as "（空）".
 */
export function formatConflictValue(field: string, value: unknown, t: Translate, te: Has): string {
  if (value === null || value === undefined || value === '') return t('conflicts.empty')
  if (typeof value === 'boolean') return t(value ? 'conflicts.yes' : 'conflicts.no')
  const group = ENUM_GROUPS[field] ?? field
  const label = (code: unknown): string => {
    const text = String(code)
    const key = `enums.${group}.${text}`
    return te(key) ? t(key) : text
  }
  if (Array.isArray(value)) return value.length === 0 ? t('conflicts.empty') : value.map(label).join('、')
  if (typeof value === 'object') {
    return isPoint(value) ? `${value.lat.toFixed(6)}, ${value.lng.toFixed(6)}` : JSON.stringify(value)
  }
  return label(value)
}
