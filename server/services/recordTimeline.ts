import { maskFieldsFor } from '#shared/domain/privacy.ts'
import type { UserRole } from '#shared/schemas/api.ts'
import { INCIDENT_STATUSES, type RecordKind } from '#shared/schemas/records.ts'
import type { TimelineEntry } from '#shared/schemas/timeline.ts'
import { stampMs } from '#shared/sync/hlc.ts'
import { DELETED_FIELD } from '#shared/sync/merge.ts'
import type { StoredWrite } from '../store/SyncStore.ts'

type Status = (typeof INCIDENT_STATUSES)[number]
const isStatus = (value: unknown): value is Status =>
  typeof value === 'string' && (INCIDENT_STATUSES as readonly string[]).includes(value)

/**
 * A record's write history as timeline entries: one per op (the writes sharing its stamp), in stamp order, masked
 * for `role`. A status write's `from` is the status its device saw (the write its base names), so a transition reads
 * as the step its author took, even when a concurrent write lost; `userNames` maps user ids to display names.
 */
export function timelineOf(
  kind: RecordKind,
  writes: readonly StoredWrite[],
  role: UserRole,
  userNames: ReadonlyMap<string, string>,
): TimelineEntry[] {
  const byStamp = new Map<string, StoredWrite[]>()
  for (const write of writes) {
    const group = byStamp.get(write.stamp)
    if (group) group.push(write)
    else byStamp.set(write.stamp, [write])
  }
  const statusAt = new Map(writes.filter((w) => w.field === 'status').map((w) => [w.stamp, w.value]))
  return [...byStamp.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([stamp, group]) => {
      const first = group[0]!
      const fields = Object.fromEntries(group.map((w) => [w.field, w.value]))
      const statusWrite = group.find((w) => w.field === 'status')
      const from = statusWrite?.base == null ? null : statusAt.get(statusWrite.base)
      const to = statusWrite?.value
      return {
        stamp,
        at: stampMs(stamp),
        receivedAt: first.receivedAt,
        userId: first.userId,
        userName: userNames.get(first.userId) ?? null,
        deviceId: first.deviceId,
        fields: maskFieldsFor(role, kind, fields),
        ...(isStatus(to) ? { status: { from: isStatus(from) ? from : null, to } } : {}),
        deleted: fields[DELETED_FIELD] === true,
      }
    })
}
