/**
 * The records a grid worker captures, as zod schemas; their types come from z.infer.
 * A record travels as a flat map of fields so that every field can carry its own stamp (see sync/merge.ts).
 * Optional fields are cleared by writing null, never by leaving them out: a patch only says what changed.
 * Coordinates are WGS-84 as GPS gives them; display-time conversion (GCJ-02, BD-09) never reaches storage.
 */
import { z } from 'zod'

export const RECORD_KINDS = ['household', 'place', 'incident'] as const
export const recordKindSchema = z.enum(RECORD_KINDS)
export type RecordKind = z.infer<typeof recordKindSchema>

/** A 15-digit grid code: county (6) + town (3) + village (3) + grid (3), as in DB11/T 2157. */
export const gridIdSchema = z.string().regex(/^\d{15}$/, '网格编码应为15位数字')

export const pointSchema = z.strictObject({
  lat: z.number().min(-90).max(90),
  lng: z.number().min(-180).max(180),
  /** GPS accuracy in metres, when the point came from GPS. */
  accuracy: z.number().nonnegative().max(100_000).optional(),
})
export type Point = z.infer<typeof pointSchema>

const text = (max: number) => z.string().trim().min(1, '不能为空').max(max, `最多${max}个字`)
const optionalText = (max: number) => z.string().trim().max(max, `最多${max}个字`).nullable().optional()
const phone = z
  .string()
  .regex(/^1\d{10}$/, '手机号应为11位数字')
  .nullable()
  .optional()

export const HOUSING_TYPES = ['owned', 'rented', 'borrowed'] as const
export const householdSchema = z.strictObject({
  gridId: gridIdSchema,
  address: text(200),
  houseNumber: optionalText(50),
  location: pointSchema.nullable().optional(),
  housing: z.enum(HOUSING_TYPES),
  headName: text(50),
  headPhone: phone,
  memberCount: z.number().int().min(0).max(99).nullable().optional(),
  notes: optionalText(2000),
})
export type Household = z.infer<typeof householdSchema>

export const PLACE_TYPES = [
  'enterprise',
  'school',
  'clinic',
  'shop',
  'rental',
  'religious',
  'waterworks',
  'hazard',
  'public',
  'other',
] as const
export const RISK_LEVELS = ['low', 'medium', 'high'] as const
export const placeSchema = z.strictObject({
  gridId: gridIdSchema,
  type: z.enum(PLACE_TYPES),
  name: text(100),
  address: text(200),
  location: pointSchema.nullable().optional(),
  contactName: optionalText(50),
  contactPhone: phone,
  riskLevel: z.enum(RISK_LEVELS),
  notes: optionalText(2000),
})
export type Place = z.infer<typeof placeSchema>

export const INCIDENT_CATEGORIES = [
  'dispute',
  'safety',
  'order',
  'environment',
  'livelihood',
  'care',
  'other',
] as const
export const URGENCIES = ['normal', 'urgent', 'complex'] as const
export const INCIDENT_STATUSES = [
  'reported',
  'accepted',
  'voided',
  'dispatched',
  'in_progress',
  'handled',
  'verified',
  'returned',
  'closed',
  'rated',
  'parked',
] as const
export const incidentSchema = z.strictObject({
  gridId: gridIdSchema,
  category: z.enum(INCIDENT_CATEGORIES),
  description: text(2000),
  location: pointSchema.nullable().optional(),
  urgency: z.enum(URGENCIES),
  status: z.enum(INCIDENT_STATUSES),
  reportedAt: z.number().int().positive(),
  householdId: z.uuid().nullable().optional(),
  placeId: z.uuid().nullable().optional(),
})
export type Incident = z.infer<typeof incidentSchema>

export const recordSchemas = {
  household: householdSchema,
  place: placeSchema,
  incident: incidentSchema,
} as const

export interface RecordFieldsByKind {
  household: Household
  place: Place
  incident: Incident
}

/** A patch: some fields of a record; unknown fields are refused. */
export const patchSchemas = {
  household: householdSchema.partial(),
  place: placeSchema.partial(),
  incident: incidentSchema.partial(),
} as const

export interface FieldIssue {
  field: string
  message: string
}

/** Validate a whole record (create) or a patch (edit); the first issue names its field. */
export function validateFields(
  kind: RecordKind,
  fields: unknown,
  mode: 'create' | 'patch',
): { ok: true; fields: Record<string, unknown> } | { ok: false; issue: FieldIssue } {
  const schema = mode === 'create' ? recordSchemas[kind] : patchSchemas[kind]
  const result = schema.safeParse(fields)
  if (result.success) return { ok: true, fields: result.data as Record<string, unknown> }
  const first = result.error.issues[0]
  const path = first?.path.map(String).join('.') ?? ''
  const unknownKey = first?.code === 'unrecognized_keys' ? first.keys[0] : undefined
  return {
    ok: false,
    issue: { field: unknownKey ?? path, message: first?.message ?? 'invalid' },
  }
}
