/**
 * The leaders' conflict review queue (冲突处理): GET /api/conflicts/queue lists the open conflicts in the caller's
 * scope, newest first; POST /api/conflicts/resolve records a leader's decision about one losing write.
 *
 * A decision is keyed by (record, field, loser stamp), not by a conflict row: the server recomputes a record's
 * conflict rows from its whole history on every op, and a losing write stays a leaf of its field's history forever,
 * so without that key a recomputation would bring a decided conflict back. Only a NEW losing write (another stamp)
 * reopens the queue. Values are masked for the caller's role, like everywhere else. Response objects are not strict:
 * a newer server may add keys, which the device ignores.
 */
import { z } from 'zod'
import { lazySchema } from './lazySchema.ts'
import type { UserRole } from './api.ts'
import { recordKindSchema } from './records.ts'

/** Who reviews conflicts: 网格长 and admins (DOMAIN.md). The server enforces it; the app only hides the screen. */
export const canReviewConflicts = (role: UserRole): boolean => role === 'leader' || role === 'admin'

export const CONFLICT_DECISIONS = ['keep', 'restored'] as const
export type ConflictDecision = (typeof CONFLICT_DECISIONS)[number]

/** One side of a conflict: a field write, who made it, from which device, when (ms, from its stamp). */
export const conflictSideSchema = lazySchema(() =>
  z.object({
    stamp: z.string(),
    value: z.unknown(),
    userId: z.string().nullable(),
    /** The author's display name; null when unknown (the account is gone). */
    userName: z.string().nullable(),
    deviceId: z.string().nullable(),
    at: z.number().int(),
  }),
)
export type ConflictSide = z.infer<typeof conflictSideSchema>

export const conflictQueueItemSchema = lazySchema(() =>
  z.object({
    /** The conflict row's id (newest first; the paging cursor). */
    id: z.number().int(),
    recordId: z.string(),
    kind: recordKindSchema,
    /** What names the record: a household's address, a place's or person's name, an incident's description. */
    label: z.string().nullable(),
    /** Whether the record is deleted now (a `delete` conflict: an edit the delete did not see). */
    deleted: z.boolean(),
    field: z.string(),
    /** `edit`: two concurrent edits of the field; `delete`: an edit a delete did not see. */
    type: z.enum(['edit', 'delete']),
    /** The write that won (for `delete`, the delete itself). */
    kept: conflictSideSchema,
    /** The write that lost. */
    lost: conflictSideSchema,
    /** When the server first saw the conflict. */
    createdAt: z.number().int(),
  }),
)
export type ConflictQueueItem = z.infer<typeof conflictQueueItemSchema>

export const conflictQueueQuerySchema = lazySchema(() =>
  z.strictObject({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    /** The previous page's `next`. */
    before: z.coerce.number().int().positive().optional(),
  }),
)
export type ConflictQueueQuery = z.infer<typeof conflictQueueQuerySchema>

export const conflictQueueSchema = lazySchema(() =>
  z.object({
    conflicts: z.array(conflictQueueItemSchema),
    /** How many open conflicts the caller's scope holds in all. */
    total: z.number().int().min(0),
    /** The `before` of the next page; null at the end. */
    next: z.number().int().nullable(),
  }),
)
export type ConflictQueue = z.infer<typeof conflictQueueSchema>

export const resolveConflictRequestSchema = lazySchema(() =>
  z.strictObject({
    recordId: z.uuid(),
    field: z.string().min(1).max(100),
    loserStamp: z.string().min(1).max(100),
    decision: z.enum(CONFLICT_DECISIONS),
  }),
)
export type ResolveConflictRequest = z.infer<typeof resolveConflictRequestSchema>

export const conflictResolutionSchema = lazySchema(() =>
  z.object({
    recordId: z.string(),
    field: z.string(),
    loserStamp: z.string(),
    decision: z.enum(CONFLICT_DECISIONS),
    resolvedAt: z.number().int(),
    resolvedBy: z.string(),
    resolvedByName: z.string().nullable(),
  }),
)
export type ConflictResolution = z.infer<typeof conflictResolutionSchema>

export const resolveConflictResponseSchema = lazySchema(() =>
  z.object({ resolution: conflictResolutionSchema }),
)
