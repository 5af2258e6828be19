import { z } from 'zod'
import { pullResponseSchema, pushResponseSchema } from '#shared/sync/protocol.ts'
import type { PullQuery, PullResponse, PushRequest, PushResponse } from '#shared/sync/protocol.ts'
import {
  appConfigSchema,
  areasResponseSchema,
  loginResponseSchema,
  unmaskResponseSchema,
} from '#shared/schemas/api.ts'
import type { AppConfig, Area, LoginRequest, LoginResponse, UnmaskResponse } from '#shared/schemas/api.ts'
import type { RecordKind } from '#shared/schemas/records.ts'
import type { ApiClient } from './apiClient.ts'
import type { Transport } from './ports.ts'

export type { LoginRequest }

const okSchema = z.unknown()

/** The device's calls to the server (the admin screens use adminApi.ts over the same client). */
export interface HttpTransport extends Transport {
  login(request: LoginRequest): Promise<LoginResponse>
  /** Revokes this device's session on the server. */
  logout(): Promise<void>
  fetchAreas(): Promise<Area[]>
  fetchConfig(): Promise<AppConfig>
  /** The clear value of a sensitive field; the server records who asked. */
  unmask(kind: RecordKind, id: string, field: string): Promise<UnmaskResponse>
}

export function createHttpTransport(client: ApiClient): HttpTransport {
  const { request } = client
  return {
    push: (body: PushRequest): Promise<PushResponse> =>
      request('POST', '/api/sync/push', pushResponseSchema, { body, gzip: true }),
    pull: (query: PullQuery): Promise<PullResponse> => {
      const params = new URLSearchParams({
        deviceId: query.deviceId,
        since: String(query.since),
        limit: String(query.limit),
        protocol: String(query.protocol),
      })
      return request('GET', `/api/sync/pull?${params}`, pullResponseSchema)
    },
    async confirmWiped() {
      await request('POST', '/api/devices/wiped', okSchema, { body: {} })
    },
    login: (body) => request('POST', '/api/auth/login', loginResponseSchema, { body, auth: false }),
    async logout() {
      await request('POST', '/api/auth/logout', okSchema, { body: {} })
    },
    fetchAreas: async () => (await request('GET', '/api/areas', areasResponseSchema)).areas,
    fetchConfig: () => request('GET', '/api/config', appConfigSchema, { auth: false }),
    unmask: (kind, id, field) =>
      request(
        'POST',
        `/api/records/${encodeURIComponent(kind)}/${encodeURIComponent(id)}/unmask`,
        unmaskResponseSchema,
        { body: { field } },
      ),
  }
}
