/**
 * The records a grid worker captures, as zod schemas; their types come from z.infer.
 * A record travels as a flat map of fields so that every field can carry its own stamp (see sync/merge.ts).
 * Optional fields are cleared by writing null, never by leaving them out: a patch only says what changed.
 * Coordinates are WGS-84 as GPS gives them; display-time conversion (GCJ-02, BD-09) never reaches storage.
 */
import { z } from 'zod'
import { lazySchema } from './lazySchema.ts'
import { birthDateOfId, genderOfId, idNumberProblem } from '../domain/idNumber.ts'
import { isSubcategoryOf } from '../domain/incidentCategories.ts'

export const RECORD_KINDS = ['household', 'place', 'incident', 'person', 'visit', 'track', 'photo'] as const
export const recordKindSchema = lazySchema(() => z.enum(RECORD_KINDS))
export type RecordKind = z.infer<typeof recordKindSchema>

/** A 15-digit grid code: county (6) + town (3) + village (3) + grid (3), as in DB11/T 2157. */
export const gridIdSchema = lazySchema(() => z.string().regex(/^\d{15}$/, '网格编码应为15位数字'))

export const pointSchema = lazySchema(() =>
  z.strictObject({
    lat: z.number().min(-90).max(90),
    lng: z.number().min(-180).max(180),
    /** GPS accuracy in metres, when the point came from GPS. */
    accuracy: z.number().nonnegative().max(100_000).optional(),
  }),
)
export type Point = z.infer<typeof pointSchema>

const text = (max: number) => z.string().trim().min(1, '不能为空').max(max, `最多${max}个字`)
const optionalText = (max: number) => z.string().trim().max(max, `最多${max}个字`).nullable().optional()
const phone = lazySchema(() =>
  z
    .string()
    .regex(/^1\d{10}$/, '手机号应为11位数字')
    .nullable()
    .optional(),
)

export const HOUSING_TYPES = ['owned', 'rented', 'borrowed'] as const
export const householdSchema = lazySchema(() =>
  z.strictObject({
    gridId: gridIdSchema,
    address: text(200),
    houseNumber: optionalText(50),
    location: pointSchema.nullable().optional(),
    housing: z.enum(HOUSING_TYPES),
    headName: text(50),
    headPhone: phone,
    memberCount: z.number().int().min(0).max(99).nullable().optional(),
    notes: optionalText(2000),
  }),
)
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
export const placeSchema = lazySchema(() =>
  z.strictObject({
    gridId: gridIdSchema,
    type: z.enum(PLACE_TYPES),
    name: text(100),
    address: text(200),
    location: pointSchema.nullable().optional(),
    contactName: optionalText(50),
    contactPhone: phone,
    riskLevel: z.enum(RISK_LEVELS),
    notes: optionalText(2000),
  }),
)
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
const stepTime = lazySchema(() => z.number().int().positive().nullable().optional())
const incidentFields = lazySchema(() =>
  z.strictObject({
    gridId: gridIdSchema,
    category: z.enum(INCIDENT_CATEGORIES),
    /** `category.sub`, one of INCIDENT_SUBCATEGORIES[category]. */
    subcategory: z.string().max(40).nullable().optional(),
    description: text(2000),
    location: pointSchema.nullable().optional(),
    urgency: z.enum(URGENCIES),
    status: z.enum(INCIDENT_STATUSES),
    reportedAt: z.number().int().positive(),
    householdId: z.uuid().nullable().optional(),
    placeId: z.uuid().nullable().optional(),
    // The closed loop's step fields (domain/workflow.ts says which step writes which; all optional, so that records
    // made before the workflow still parse). Times are device ms; `deadlineAt` is set at dispatch, overdue is derived.
    acceptedAt: stepTime,
    voidedAt: stepTime,
    voidReason: optionalText(500),
    dispatchedAt: stepTime,
    /** The id of the handler user (责任单位) the incident is dispatched to. */
    handlerId: z.string().min(1).max(64).nullable().optional(),
    deadlineAt: stepTime,
    startedAt: stepTime,
    handledAt: stepTime,
    /** What the handler did (办结结果); photos of it are photo records owned by the incident. */
    result: optionalText(2000),
    verifiedAt: stepTime,
    returnedAt: stepTime,
    returnReason: optionalText(500),
    closedAt: stepTime,
    ratedAt: stepTime,
    /** Satisfaction (评价), 1–5. */
    rating: z.number().int().min(1, '评价应为1–5分').max(5, '评价应为1–5分').nullable().optional(),
    parkedAt: stepTime,
    parkedReason: optionalText(500),
    /** 即办件: a worker fixed it on the spot; created closed, with the fix in `result`. */
    quickFix: z.boolean().nullable().optional(),
  }),
)
export const incidentSchema = lazySchema(() =>
  incidentFields.superRefine((incident, ctx) => {
    if (incident.subcategory && !isSubcategoryOf(incident.category, incident.subcategory)) {
      ctx.addIssue({ code: 'custom', path: ['subcategory'], message: '子类与事件类别不符' })
    }
  }),
)
export type Incident = z.infer<typeof incidentSchema>

export const GENDERS = ['male', 'female'] as const
export const RELATIONS = [
  'head',
  'spouse',
  'child',
  'parent',
  'grandchild',
  'sibling',
  'in_law',
  'other',
] as const
export const POPULATION_TYPES = ['registered', 'migrant', 'foreign'] as const
/** Groups that need care (DOMAIN.md); `disabled` goes with a disability grade 1–4. */
export const CARE_TAGS = [
  'left_behind_elderly',
  'left_behind_women',
  'left_behind_children',
  'living_alone_elderly',
  'disabled',
  'subsistence',
  'hardship',
  'key_person',
] as const

const ID_PROBLEM_MESSAGES = {
  format: '身份证号应为18位（最后一位可为X）',
  checksum: '身份证号校验位不正确',
  birthDate: '身份证号中的出生日期无效',
}
export const idNumberSchema = lazySchema(() =>
  z.string().superRefine((value, ctx) => {
    const problem = idNumberProblem(value)
    if (problem) ctx.addIssue({ code: 'custom', message: ID_PROBLEM_MESSAGES[problem] })
  }),
)

/** A household member (人). Sensitive: ID number, phone, care tags (see domain/privacy.ts). */
const personFields = lazySchema(() =>
  z.strictObject({
    gridId: gridIdSchema,
    householdId: z.uuid(),
    name: text(50),
    gender: z.enum(GENDERS),
    birthDate: z.iso.date('出生日期格式应为 YYYY-MM-DD'),
    idNumber: idNumberSchema.nullable().optional(),
    phone,
    relation: z.enum(RELATIONS),
    populationType: z.enum(POPULATION_TYPES),
    tags: z.array(z.enum(CARE_TAGS)).max(CARE_TAGS.length).optional(),
    disabilityGrade: z.number().int().min(1).max(4).nullable().optional(),
    notes: optionalText(500),
  }),
)
export const personSchema = lazySchema(() =>
  personFields.superRefine((person, ctx) => {
    if (person.idNumber && idNumberProblem(person.idNumber) === null) {
      if (birthDateOfId(person.idNumber) !== person.birthDate) {
        ctx.addIssue({ code: 'custom', path: ['birthDate'], message: '出生日期与身份证号不一致' })
      }
      if (genderOfId(person.idNumber) !== person.gender) {
        ctx.addIssue({ code: 'custom', path: ['gender'], message: '性别与身份证号不一致' })
      }
    }
    const disabled = person.tags?.includes('disabled') ?? false
    if (disabled !== (person.disabilityGrade != null)) {
      ctx.addIssue({
        code: 'custom',
        path: ['disabilityGrade'],
        message: disabled ? '残疾人需填写残疾等级（1–4级）' : '未标记残疾人时不填残疾等级',
      })
    }
  }),
)
export type Person = z.infer<typeof personSchema>

/** A visit (走访) to a household or an inspection (巡查) of a place. */
export const visitSchema = lazySchema(() =>
  z.strictObject({
    gridId: gridIdSchema,
    targetKind: z.enum(['household', 'place']),
    targetId: z.uuid(),
    visitedAt: z.number().int().positive(),
    notes: optionalText(2000),
    /** Who visited (走访人): the user who recorded it, as the server checks; the name as it was then. */
    visitorId: z.string().min(1).max(64).nullable().optional(),
    visitorName: optionalText(50),
  }),
)
export type Visit = z.infer<typeof visitSchema>

/** A patrol track (巡查轨迹): [lng, lat, time ms, accuracy m] points, WGS-84; written by one device only. */
export const trackPointSchema = lazySchema(() =>
  z.tuple([
    z.number().min(-180).max(180),
    z.number().min(-90).max(90),
    z.number().int().positive(),
    z.number().nonnegative().max(100_000),
  ]),
)
export const trackSchema = lazySchema(() =>
  z.strictObject({
    gridId: gridIdSchema,
    startedAt: z.number().int().positive(),
    endedAt: z.number().int().positive().nullable().optional(),
    points: z.array(trackPointSchema).max(20_000),
  }),
)
export type Track = z.infer<typeof trackSchema>

export const PHOTO_OWNER_KINDS = ['household', 'place', 'incident', 'visit'] as const
/** A photo's metadata; its bytes travel separately, keyed by their SHA-256 (PUT /api/photos/:sha256). */
export const photoSchema = lazySchema(() =>
  z.strictObject({
    gridId: gridIdSchema,
    ownerKind: z.enum(PHOTO_OWNER_KINDS),
    ownerId: z.uuid(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 应为64位十六进制'),
    mime: z.enum(['image/jpeg', 'image/webp', 'image/png']),
    width: z.number().int().positive().max(20_000),
    height: z.number().int().positive().max(20_000),
    bytes: z
      .number()
      .int()
      .positive()
      .max(20 * 1024 * 1024),
    takenAt: z.number().int().positive(),
  }),
)
export type Photo = z.infer<typeof photoSchema>

/** Whole records, with their cross-field rules (checked on create, and by the device on the merged record). */
export const recordSchemas = {
  household: householdSchema,
  place: placeSchema,
  incident: incidentSchema,
  person: personSchema,
  visit: visitSchema,
  track: trackSchema,
  photo: photoSchema,
} as const

export interface RecordFieldsByKind {
  household: Household
  place: Place
  incident: Incident
  person: Person
  visit: Visit
  track: Track
  photo: Photo
}

/** A patch: some fields of a record, each valid on its own; unknown fields are refused. */
export const patchSchemas = {
  household: lazySchema(() => householdSchema.partial()),
  place: lazySchema(() => placeSchema.partial()),
  incident: lazySchema(() => incidentFields.partial()),
  person: lazySchema(() => personFields.partial()),
  visit: lazySchema(() => visitSchema.partial()),
  track: lazySchema(() => trackSchema.partial()),
  photo: lazySchema(() => photoSchema.partial()),
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
