/**
 * A record's timeline (全流程留痕): every applied write, one entry per op, in stamp order, with who made it, when and
 * from which device. GET /api/records/:id/timeline answers with `timelineSchema`; fields are masked for the caller's
 * role like everywhere else. An entry whose op changed the status says from which status (the one its device saw,
 * null for a new record) to which.
 */
import { z } from 'zod'
import { lazySchema } from './lazySchema.ts'
import { INCIDENT_STATUSES, recordKindSchema } from './records.ts'

export const timelineEntrySchema = lazySchema(() =>
  z.strictObject({
    /** The op's HLC stamp: entries are in stamp order, which is the order the merge applies them in. */
    stamp: z.string(),
    /** When the device made the change (ms, from the stamp). */
    at: z.number().int(),
    /** When the server received it (ms). */
    receivedAt: z.number().int(),
    userId: z.string(),
    /** The author's display name; null if the account is gone. */
    userName: z.string().nullable(),
    deviceId: z.string(),
    /** The fields the op wrote, masked for the caller (a delete writes `_deleted: true`). */
    fields: z.record(z.string(), z.unknown()),
    /** Set when the op wrote the status of an incident. */
    status: z
      .strictObject({
        from: z.enum(INCIDENT_STATUSES).nullable(),
        to: z.enum(INCIDENT_STATUSES),
      })
      .optional(),
    /** Whether the op deleted the record. */
    deleted: z.boolean(),
  }),
)
export type TimelineEntry = z.infer<typeof timelineEntrySchema>

export const timelineSchema = lazySchema(() =>
  z.strictObject({
    id: z.uuid(),
    kind: recordKindSchema,
    entries: z.array(timelineEntrySchema),
  }),
)
export type Timeline = z.infer<typeof timelineSchema>
