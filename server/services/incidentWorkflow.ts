import { coversScope } from '#shared/domain/permissions.ts'
import { DEFAULT_DEADLINES, type DeadlineConfig } from '#shared/domain/deadlines.ts'
import {
  STATUS_NAMES,
  judgeIncidentPatch,
  type IncidentStatus,
  type WorkflowIncident,
} from '#shared/domain/workflow.ts'
import type { PutOp, RefusalCode, Scope } from '#shared/sync/protocol.ts'
import type { StoreOps, StoredRecord, User } from '../store/SyncStore.ts'

export interface WorkflowRefusal {
  code: RefusalCode
  reason: string
  field: string
}

/** The workflow's view of a stored incident (fields as the server holds them, unmasked). */
export function workflowView(fields: Readonly<Record<string, unknown>>): WorkflowIncident {
  return {
    status: (fields.status as IncidentStatus | undefined) ?? 'reported',
    handlerId: typeof fields.handlerId === 'string' ? fields.handlerId : null,
    urgency: fields.urgency as WorkflowIncident['urgency'],
    dispatchedAt: typeof fields.dispatchedAt === 'number' ? fields.dispatchedAt : null,
  }
}

/**
 * Judge an incident `put` op against the closed loop (shared/domain/workflow.ts), with what only the server knows.
 *
 * Invariants:
 * - Compare-and-set on the status: an op that writes `status` must name, as its base, the status stamp the server
 *   holds (the device saw the current state), else it is refused `stale_transition`, naming the current state. Its
 *   own stamp is then above that stamp (a device's clock passes every stamp it has seen), so a legal transition
 *   always wins last-writer-wins; an op whose stamp does not is refused the same way rather than half-applied.
 * - Then the pure judge: `illegal_transition` for a status change the loop does not allow the role, `workflow` or
 *   `forbidden` for step fields written outside their step or by the wrong role.
 * - A `handlerId` written (dispatch, reassignment) must name an enabled handler whose areas cover the incident.
 * Returns null when the op may apply.
 */
export async function judgeIncidentOp(
  tx: StoreOps,
  user: User,
  op: PutOp,
  existing: StoredRecord | null,
  scope: Scope,
  deadlines: DeadlineConfig = DEFAULT_DEADLINES,
): Promise<WorkflowRefusal | null> {
  // A tombstone keeps its fields: an edit racing a delete is judged on them (and kept as a delete-edit conflict).
  const current = existing ? workflowView(existing.fields) : null
  if (existing && current && 'status' in op.fields) {
    const held = existing.stamps.status ?? null
    const seen = op.base.status ?? null
    if (seen !== held || (held !== null && op.stamp <= held)) {
      return {
        code: 'stale_transition',
        reason: `事件已被他人改为「${STATUS_NAMES[current.status]}」，请同步后重试`,
        field: 'status',
      }
    }
  }
  const verdict = judgeIncidentPatch(current, op.fields, { id: user.id, role: user.role }, deadlines)
  if (!verdict.ok) return { code: verdict.code, reason: verdict.reason, field: verdict.field }

  const handlerId = op.fields.handlerId
  if (typeof handlerId === 'string') {
    const handler = await tx.getUser(handlerId)
    if (!handler || handler.role !== 'handler' || handler.disabled) {
      return { code: 'workflow', reason: '派遣对象不是有效的责任单位账号', field: 'handlerId' }
    }
    if (!coversScope(handler.areaIds, scope)) {
      return {
        code: 'workflow',
        reason: `责任单位「${handler.displayName}」不负责该事件所在的网格`,
        field: 'handlerId',
      }
    }
  }
  return null
}
