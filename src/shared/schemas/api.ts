/**
 * The shapes of the non-sync API (login, areas, config): the server parses requests with them, the device responses.
 * Push and pull use the shared protocol schemas in #shared/sync/protocol.ts.
 * Objects are not strict here: a newer server may add keys, which the device then ignores.
 */
import { z } from 'zod'
import { lazySchema } from './lazySchema.ts'
import { AREA_LEVELS } from '../domain/areaCodes.ts'
import { deviceIdSchema } from '../sync/protocol.ts'

export const USER_ROLES = ['worker', 'leader', 'handler', 'admin'] as const
export type UserRole = (typeof USER_ROLES)[number]

export const sessionUserSchema = lazySchema(() =>
  z.object({
    id: z.union([z.string(), z.number()]).transform(String),
    username: z.string(),
    displayName: z.string(),
    role: z.enum(USER_ROLES),
    areaIds: z.array(z.string()),
  }),
)
export type SessionUser = z.infer<typeof sessionUserSchema>

/**
 * A session: a short-lived access token for API calls and a per-device refresh token (rotated on every use,
 * revocable by an admin or a logout). Times are server epoch ms.
 */
export const sessionTokensSchema = lazySchema(() =>
  z.object({
    accessToken: z.string().min(1),
    accessExpiresAt: z.number(),
    refreshToken: z.string().min(1),
    refreshExpiresAt: z.number(),
  }),
)
export type SessionTokens = z.infer<typeof sessionTokensSchema>

export const loginResponseSchema = lazySchema(() => sessionTokensSchema.extend({ user: sessionUserSchema }))
export type LoginResponse = z.infer<typeof loginResponseSchema>

export const refreshRequestSchema = lazySchema(() =>
  z.strictObject({
    refreshToken: z.string().min(1).max(200),
    deviceId: deviceIdSchema,
  }),
)
export type RefreshRequest = z.infer<typeof refreshRequestSchema>

/** POST /api/records/:kind/:id/unmask: the server returns the real value and records who asked. */
export const unmaskRequestSchema = lazySchema(() => z.strictObject({ field: z.string().min(1).max(64) }))
export const unmaskResponseSchema = lazySchema(() => z.object({ field: z.string(), value: z.unknown() }))
export type UnmaskResponse = z.infer<typeof unmaskResponseSchema>

const position = lazySchema(() => z.array(z.number()).min(2))
export const polygonSchema = lazySchema(() =>
  z.object({
    type: z.literal('Polygon'),
    coordinates: z.array(z.array(position)),
  }),
)
export type Polygon = z.infer<typeof polygonSchema>

export const areaSchema = lazySchema(() =>
  z.object({
    id: z.string(),
    level: z.enum(AREA_LEVELS),
    name: z.string(),
    parentId: z.string().nullable(),
    geometry: polygonSchema.nullable(),
  }),
)
export type Area = z.infer<typeof areaSchema>

export const areasResponseSchema = lazySchema(() => z.object({ areas: z.array(areaSchema) }))

/** Days per urgency (处置时限) and the most a deadline may give: the server's INCIDENT_DEADLINE_DAYS. */
export const deadlineConfigSchema = lazySchema(() =>
  z.object({
    urgent: z.number().positive(),
    normal: z.number().positive(),
    complex: z.number().positive(),
    max: z.number().positive(),
  }),
)

export const appConfigSchema = lazySchema(() =>
  z.object({
    basemapUrl: z.string(),
    basemapAttribution: z.string(),
    maxClockDriftMs: z.number(),
    /** Absent from servers (and cached configs) older than the closed loop: the device then uses the defaults. */
    deadlines: deadlineConfigSchema.optional(),
    protocol: z.number().int(),
  }),
)
export type AppConfig = z.infer<typeof appConfigSchema>

/** GET /api/handlers?gridId=…: the enabled handler accounts (责任单位) whose areas cover that grid. */
export const handlersQuerySchema = lazySchema(() =>
  z.object({ gridId: z.string().regex(/^\d{15}$/, '网格编码应为15位数字') }),
)
export const handlerSchema = lazySchema(() => z.object({ id: z.string(), name: z.string() }))
export type Handler = z.infer<typeof handlerSchema>
export const handlersResponseSchema = lazySchema(() => z.object({ handlers: z.array(handlerSchema) }))

export const loginRequestSchema = lazySchema(() =>
  z.strictObject({
    username: z.string().trim().min(1).max(64),
    password: z.string().min(1).max(256),
    deviceId: deviceIdSchema,
  }),
)
export type LoginRequest = z.infer<typeof loginRequestSchema>
