/**
 * The wire protocol between a device and the server. Both sides parse with these schemas.
 *
 * - push: a bounded batch of ops from one device's outbox, in outbox order. Each op is a field patch (`put`) or a
 *   tombstone (`delete`) stamped with the device's hybrid logical clock, and names the stamp each field had on the
 *   device when it was edited (`base`), which is how the server tells a concurrent edit from a later one.
 *   The server answers per op: applied, or refused with a code, a reason and the field concerned. A retried batch
 *   gets the same answer (ops are remembered per device and op sequence).
 * - pull: pages of whole records in the order of the server's own change sequence; the cursor is that sequence,
 *   never a client timestamp.
 * Every response carries the server clock's stamp, which the device's clock receives.
 */
import { z } from 'zod'
import { lazySchema } from '../schemas/lazySchema.ts'
import { STAMP_PATTERN } from './hlc.ts'
import { recordKindSchema } from '../schemas/records.ts'

export const PROTOCOL_VERSION = 1
export const MAX_PUSH_OPS = 500
export const DEFAULT_PULL_LIMIT = 1000
export const MAX_PULL_LIMIT = 5000

export const stampSchema = lazySchema(() => z.string().regex(STAMP_PATTERN, 'invalid stamp'))
export const deviceIdSchema = lazySchema(() => z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'invalid device id'))
export const recordIdSchema = lazySchema(() => z.uuid())
const opSeq = lazySchema(() => z.number().int().positive().max(Number.MAX_SAFE_INTEGER))

const isPlainObject = (input: unknown): input is Record<string, unknown> => {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return false
  const prototype: unknown = Object.getPrototypeOf(input)
  return prototype === Object.prototype || prototype === null
}
const isStamp = (value: unknown): value is string => typeof value === 'string' && STAMP_PATTERN.test(value)

/**
 * A JSON object used as a map of field names (at most `maxKey` characters) to values that `valueOk` accepts, checked
 * in one pass and passed on as it came. Why not `z.record`: it runs a key schema and a value schema per entry and
 * copies the object, and with two or three such maps per op it was most of the cost of parsing a push body or a
 * pull page (a push of 500 households: ~3.5 ms of zod, now ~1.7 ms; a pull page of 1,000: ~7 ms, now ~2 ms). Each
 * failing entry is an issue at its key, as with `z.record`.
 */
function fieldMap<T>(valueOk: (value: unknown) => value is T, message: string, maxKey = Infinity) {
  return z.custom<Record<string, T>>(isPlainObject, 'expected an object').check((ctx) => {
    const map = ctx.value
    for (const key in map) {
      if (key.length > maxKey)
        ctx.issues.push({
          code: 'custom',
          input: key,
          path: [key],
          message: `field name longer than ${maxKey}`,
        })
      else if (!valueOk(map[key])) ctx.issues.push({ code: 'custom', input: map[key], path: [key], message })
    }
  })
}
const anyValue = (value: unknown): value is unknown => value !== undefined

const baseSchema = lazySchema(() =>
  fieldMap((value): value is string | null => value === null || isStamp(value), 'invalid stamp', 64),
)

export const putOpSchema = lazySchema(() =>
  z.strictObject({
    type: z.literal('put'),
    seq: opSeq,
    kind: recordKindSchema,
    id: recordIdSchema,
    stamp: stampSchema,
    /** Per patched field, the stamp it had on the device before this edit (null: never written). */
    base: baseSchema,
    /** Whether the device created the record with this op (all required fields present). */
    create: z.boolean(),
    fields: fieldMap(anyValue, 'missing value', 64),
  }),
)
export const deleteOpSchema = lazySchema(() =>
  z.strictObject({
    type: z.literal('delete'),
    seq: opSeq,
    kind: recordKindSchema,
    id: recordIdSchema,
    stamp: stampSchema,
    /** Every field's stamp as the device saw the record when deleting it: edits it had not seen race the delete. */
    base: baseSchema,
  }),
)
export const opSchema = lazySchema(() => z.discriminatedUnion('type', [putOpSchema, deleteOpSchema]))
export type PutOp = z.infer<typeof putOpSchema>
export type DeleteOp = z.infer<typeof deleteOpSchema>
export type Op = z.infer<typeof opSchema>

export const pushRequestSchema = lazySchema(() =>
  z.strictObject({
    protocol: z.number().int(),
    deviceId: deviceIdSchema,
    ops: z.array(opSchema).min(1).max(MAX_PUSH_OPS),
  }),
)
export type PushRequest = z.infer<typeof pushRequestSchema>

/** Why an op was refused; the device keeps the op and shows the reason. */
export const REFUSAL_CODES = [
  'invalid_field',
  'unknown_record',
  'kind_mismatch',
  'clock_skew',
  'out_of_scope',
  'forbidden',
  'workflow',
  /** A status change whose device had not seen the current status (compare-and-set on its stamp failed). */
  'stale_transition',
  /** A status change the closed loop does not allow this role (domain/workflow.ts). */
  'illegal_transition',
] as const
export type RefusalCode = (typeof REFUSAL_CODES)[number]

export const opResultSchema = lazySchema(() =>
  z.union([
    z.strictObject({ seq: opSeq, status: z.literal('applied') }),
    z.strictObject({
      seq: opSeq,
      status: z.literal('refused'),
      code: z.enum(REFUSAL_CODES),
      reason: z.string(),
      field: z.string().optional(),
    }),
  ]),
)
export type OpResult = z.infer<typeof opResultSchema>

export const pushResponseSchema = lazySchema(() =>
  z.strictObject({
    protocol: z.literal(PROTOCOL_VERSION),
    clock: stampSchema,
    results: z.array(opResultSchema),
    /** An admin asked to wipe this device: after applying these results it deletes its data and session. */
    wipe: z.boolean().optional(),
  }),
)
export type PushResponse = z.infer<typeof pushResponseSchema>

export const pullQuerySchema = lazySchema(() =>
  z.strictObject({
    deviceId: deviceIdSchema,
    since: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(MAX_PULL_LIMIT).default(DEFAULT_PULL_LIMIT),
    protocol: z.coerce.number().int(),
  }),
)
export type PullQuery = z.infer<typeof pullQuerySchema>

export const scopeSchema = lazySchema(() =>
  z.strictObject({
    gridId: z.string(),
    villageId: z.string(),
    townId: z.string(),
    countyId: z.string(),
  }),
)
export type Scope = z.infer<typeof scopeSchema>

export const serverRecordSchema = lazySchema(() =>
  z.strictObject({
    kind: recordKindSchema,
    id: recordIdSchema,
    fields: fieldMap(anyValue, 'missing value'),
    stamps: fieldMap(isStamp, 'invalid stamp'),
    seq: z.number().int().positive(),
    scope: scopeSchema,
  }),
)
export type ServerRecord = z.infer<typeof serverRecordSchema>

export const pullResponseSchema = lazySchema(() =>
  z.strictObject({
    protocol: z.literal(PROTOCOL_VERSION),
    clock: stampSchema,
    records: z.array(serverRecordSchema),
    /** The server sequence to ask from next time. */
    cursor: z.number().int().min(0),
    more: z.boolean(),
    /**
     * Names what this user may see (role, assigned areas, the area tree's version). When it differs from the key the
     * device last completed a pull with, the device pulls again from 0 and then drops every local record that pull did
     * not bring (after its pending changes were pushed or refused): that is how records leave a phone whose user was
     * reassigned or whose grid moved.
     */
    scopeKey: z.string().min(1).max(128),
    /**
     * Records this user no longer covers because an edit moved them to a grid outside their areas, among the changes
     * this page spans: the device drops them (their queued ops stay queued and will be refused, visibly).
     */
    removed: z.array(recordIdSchema).optional(),
    /** See pushResponseSchema.wipe. */
    wipe: z.boolean().optional(),
  }),
)
export type PullResponse = z.infer<typeof pullResponseSchema>

/** The JSON body of every error response. */
export const apiErrorSchema = lazySchema(() =>
  z.strictObject({
    error: z.strictObject({ code: z.string(), message: z.string(), field: z.string().optional() }),
  }),
)
export type ApiError = z.infer<typeof apiErrorSchema>
