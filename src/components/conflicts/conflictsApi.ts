import { conflictQueueSchema, resolveConflictResponseSchema } from '#shared/schemas/conflictQueue.ts'
import type {
  ConflictQueue,
  ConflictResolution,
  ResolveConflictRequest,
} from '#shared/schemas/conflictQueue.ts'
import { createApiClient } from '../../sync/apiClient.ts'
import type { ApiClient } from '../../sync/apiClient.ts'
import { getServices } from '../../stores/services.ts'

/** The leaders' conflict review endpoints (see #shared/schemas/conflictQueue.ts). */
export interface ConflictsApi {
  /** Newest first; pass the previous page's `next` as `before`. */
  queue(page?: { limit?: number; before?: number | null }): Promise<ConflictQueue>
  resolve(request: ResolveConflictRequest): Promise<ConflictResolution>
}

export function createConflictsApi(client: ApiClient): ConflictsApi {
  const { request } = client
  return {
    queue: ({ limit, before } = {}) => {
      const params = new URLSearchParams()
      if (limit !== undefined) params.set('limit', String(limit))
      if (before !== undefined && before !== null) params.set('before', String(before))
      const query = params.toString() ? `?${params}` : ''
      return request('GET', `/api/conflicts/queue${query}`, conflictQueueSchema)
    },
    resolve: async (body) =>
      (await request('POST', '/api/conflicts/resolve', resolveConflictResponseSchema, { body })).resolution,
  }
}

/**
 * The API over a client that never refreshes the session itself: the server rotates the refresh token on every use,
 * and a second client refreshing at the same time as the sync transport's would look like a stolen token. A 401
 * comes back as an AuthError (`token_expired`); the store then lets a sync refresh the session and tries once more.
 */
export function defaultConflictsApi(): ConflictsApi {
  return createConflictsApi(
    createApiClient({
      session: {
        async tokens() {
          const session = await getServices().db.getMeta('session')
          return session ? { accessToken: session.accessToken, refreshToken: '' } : null
        },
        save: async () => undefined,
        deviceId: () => Promise.reject(new Error('the conflict queue never refreshes the session')),
      },
    }),
  )
}
