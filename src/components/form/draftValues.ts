/** Conversions between stored field values and the strings a form edits. */
import { pointSchema, type Point } from '#shared/schemas/records.ts'
import { isMaskedValue } from '#shared/domain/privacy.ts'

/** A stored value as editable text ('' when absent). */
export function textOf(value: unknown): string {
  if (value === null || value === undefined) return ''
  return String(value)
}

/** A stored sensitive value as editable text: a masked one starts empty (it is shown as the placeholder instead). */
export function editableSensitiveText(value: unknown): string {
  return isMaskedValue(value) ? '' : textOf(value)
}

/** A stored location, or null when absent or malformed. */
export function pointOf(value: unknown): Point | null {
  const parsed = pointSchema.safeParse(value)
  return parsed.success ? parsed.data : null
}

/** A trimmed optional text: empty means cleared (null). */
export function optionalText(value: string): string | null {
  const trimmed = value.trim()
  return trimmed === '' ? null : trimmed
}

/** An optional whole number typed as text: empty means cleared (null); anything unparsable stays for zod to refuse. */
export function optionalInteger(value: string): number | string | null {
  const trimmed = value.trim()
  if (trimmed === '') return null
  return /^\d+$/.test(trimmed) ? Number(trimmed) : trimmed
}
