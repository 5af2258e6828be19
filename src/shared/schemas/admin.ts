/**
 * The admin API (areas, users, devices, audit): request bodies the server parses and responses the device parses.
 * Times are server epoch ms. Response objects are not strict: a newer server may add keys, which the device ignores.
 */
import { z } from 'zod'
import { lazySchema } from './lazySchema.ts'
import { AREA_LEVELS } from '../domain/areaCodes.ts'
import { USER_ROLES, areaSchema, polygonSchema } from './api.ts'

const id = lazySchema(() => z.union([z.string(), z.number()]).transform(String))
const areaCode = lazySchema(() => z.string().regex(/^\d{6,15}$/, '区域编码应为6–15位数字'))
/** Absent or null both read as null (the server may leave out what it does not know). */
const orNull = <T extends z.ZodType>(schema: T) => schema.nullish().transform((value) => value ?? null)
const name = lazySchema(() => z.string().trim().min(1, '不能为空').max(100, '最多100个字'))

// --- areas -------------------------------------------------------------------------------------------------------

export const adminAreasResponseSchema = lazySchema(() => z.object({ areas: z.array(areaSchema) }))
export const adminAreaResponseSchema = lazySchema(() => z.object({ area: areaSchema }))
/** PATCH answers how many records moved with the area (a grid moved to another village carries its records). */
export const adminAreaUpdateResponseSchema = lazySchema(() =>
  z.object({
    area: areaSchema,
    movedRecords: z.number().int().min(0),
  }),
)
export type AdminAreaUpdate = z.infer<typeof adminAreaUpdateResponseSchema>

export const createAreaRequestSchema = lazySchema(() =>
  z.strictObject({
    id: areaCode,
    level: z.enum(AREA_LEVELS),
    name,
    parentId: areaCode.nullable(),
    geometry: polygonSchema.nullable().optional(),
  }),
)
export type CreateAreaRequest = z.infer<typeof createAreaRequestSchema>

export const updateAreaRequestSchema = lazySchema(() =>
  z.strictObject({
    name: name.optional(),
    parentId: areaCode.nullable().optional(),
    geometry: polygonSchema.nullable().optional(),
  }),
)
export type UpdateAreaRequest = z.infer<typeof updateAreaRequestSchema>

// --- users -------------------------------------------------------------------------------------------------------

export const adminUserSchema = lazySchema(() =>
  z.object({
    id,
    username: z.string(),
    displayName: z.string(),
    role: z.enum(USER_ROLES),
    areaIds: z.array(z.string()),
    disabled: z.boolean(),
    createdAt: z.number(),
  }),
)
export type AdminUser = z.infer<typeof adminUserSchema>
export const adminUsersResponseSchema = lazySchema(() => z.object({ users: z.array(adminUserSchema) }))
export const adminUserResponseSchema = lazySchema(() => z.object({ user: adminUserSchema }))

const password = lazySchema(() => z.string().min(8, '密码至少8位').max(256, '密码最多256位'))
export const createUserRequestSchema = lazySchema(() =>
  z.strictObject({
    username: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_.-]{2,64}$/, '用户名为2–64位字母、数字、下划线、点或横线'),
    displayName: z.string().trim().min(1, '不能为空').max(50, '最多50个字'),
    role: z.enum(USER_ROLES),
    areaIds: z.array(areaCode).max(100),
    password,
  }),
)
export type CreateUserRequest = z.infer<typeof createUserRequestSchema>

export const updateUserRequestSchema = lazySchema(() =>
  z.strictObject({
    displayName: z.string().trim().min(1, '不能为空').max(50, '最多50个字').optional(),
    role: z.enum(USER_ROLES).optional(),
    areaIds: z.array(areaCode).max(100).optional(),
    password: password.optional(),
    disabled: z.boolean().optional(),
  }),
)
export type UpdateUserRequest = z.infer<typeof updateUserRequestSchema>

// --- devices -----------------------------------------------------------------------------------------------------

export const adminDeviceSchema = lazySchema(() =>
  z.object({
    id: z.string(),
    userId: orNull(id),
    username: orNull(z.string()),
    displayName: orNull(z.string()),
    lastSeenAt: orNull(z.number()),
    /** Set when an admin asked to wipe the device; it wipes itself on its next contact. */
    wipeRequestedAt: orNull(z.number()),
    /** Set when the device confirmed the wipe (POST /api/devices/wiped); its session is then revoked. */
    wipedAt: orNull(z.number()),
  }),
)
export type AdminDevice = z.infer<typeof adminDeviceSchema>
export const adminDevicesResponseSchema = lazySchema(() => z.object({ devices: z.array(adminDeviceSchema) }))
export const adminDeviceResponseSchema = lazySchema(() => z.object({ device: adminDeviceSchema }))

// --- audit -------------------------------------------------------------------------------------------------------

export const auditEntrySchema = lazySchema(() =>
  z.object({
    id,
    at: z.number(),
    userId: orNull(id),
    username: orNull(z.string()),
    deviceId: orNull(z.string()),
    /** e.g. `unmask`, `login`, `user.update`, `device.wipe`. */
    action: z.string(),
    recordKind: orNull(z.string()),
    recordId: orNull(z.string()),
    field: orNull(z.string()),
    detail: z.unknown().optional(),
  }),
)
export type AuditEntry = z.infer<typeof auditEntrySchema>

/** GET /api/admin/audit?limit=&before=: newest first; `next` is the `before` of the following page, null at the end. */
export const auditPageSchema = lazySchema(() =>
  z.object({
    entries: z.array(auditEntrySchema),
    next: orNull(z.union([z.string(), z.number()])),
  }),
)
export type AuditPage = z.infer<typeof auditPageSchema>
