/**
 * Sensitive fields (PIPL art. 28; GB/T 35273): phone numbers and ID numbers travel masked to roles that do not need
 * them, and the server masks them before they leave it (hiding them in the UI alone would not protect them).
 * A masked value is never written back: the record schemas refuse `*` in a phone or ID number.
 */
import type { UserRole } from '../schemas/api.ts'
import type { RecordKind } from '../schemas/records.ts'

export type SensitiveType = 'phone' | 'idNumber'

/** Per kind, the fields that hold sensitive values. */
export const SENSITIVE_FIELDS: Record<RecordKind, Readonly<Record<string, SensitiveType>>> = {
  household: { headPhone: 'phone' },
  place: { contactPhone: 'phone' },
  incident: {},
  person: { idNumber: 'idNumber', phone: 'phone' },
  visit: {},
  track: {},
  photo: {},
}

/** What each role sees in clear. Workers call the households of their grid; nobody sees ID numbers unasked. */
const CLEAR_FOR: Record<UserRole, readonly SensitiveType[]> = {
  worker: ['phone'],
  leader: [],
  handler: [],
  admin: [],
}

/** `13812341234` → `138****1234`. */
export function maskPhone(phone: string): string {
  return phone.length >= 7
    ? `${phone.slice(0, 3)}${'*'.repeat(phone.length - 7)}${phone.slice(-4)}`
    : '*'.repeat(phone.length)
}

/** `110101199003071234` → `1101**********1234` (first 4, last 4). */
export function maskIdNumber(id: string): string {
  return id.length > 8
    ? `${id.slice(0, 4)}${'*'.repeat(id.length - 8)}${id.slice(-4)}`
    : '*'.repeat(id.length)
}

export function maskValue(type: SensitiveType, value: string): string {
  return type === 'phone' ? maskPhone(value) : maskIdNumber(value)
}

export const isMaskedValue = (value: unknown): boolean => typeof value === 'string' && value.includes('*')

/** The fields as `role` may see them: sensitive strings it does not see in clear are masked. */
export function maskFieldsFor(
  role: UserRole,
  kind: RecordKind,
  fields: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const sensitive = SENSITIVE_FIELDS[kind]
  let out: Record<string, unknown> | null = null
  for (const [field, type] of Object.entries(sensitive)) {
    const value = fields[field]
    if (typeof value !== 'string' || CLEAR_FOR[role].includes(type)) continue
    out ??= { ...fields }
    out[field] = maskValue(type, value)
  }
  return out ?? { ...fields }
}

export function sensitiveTypeOf(kind: RecordKind, field: string): SensitiveType | null {
  return SENSITIVE_FIELDS[kind][field] ?? null
}
