import { handlersResponseSchema } from '#shared/schemas/api.ts'
import type { Handler } from '#shared/schemas/api.ts'
import { timelineSchema } from '#shared/schemas/timeline.ts'
import type { Timeline } from '#shared/schemas/timeline.ts'
import type { ApiClient } from './apiClient.ts'

/** The closed loop's online reads, over the same authenticated client as sync (one token refresh in flight). */
export interface WorkflowApi {
  /** Whom a leader may dispatch an incident of this grid to (leaders and admins only). */
  handlers(gridId: string): Promise<Handler[]>
  /** Every applied write of a record, with who, when and from which device. */
  timeline(recordId: string): Promise<Timeline>
}

export function createWorkflowApi(client: ApiClient): WorkflowApi {
  const { request } = client
  return {
    handlers: async (gridId) =>
      (await request('GET', `/api/handlers?${new URLSearchParams({ gridId })}`, handlersResponseSchema))
        .handlers,
    timeline: (recordId) =>
      request('GET', `/api/records/${encodeURIComponent(recordId)}/timeline`, timelineSchema),
  }
}
