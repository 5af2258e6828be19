import { z } from 'zod'
import { apiErrorSchema, pullResponseSchema, pushResponseSchema } from '#shared/sync/protocol.ts'
import type { PullQuery, PullResponse, PushRequest, PushResponse } from '#shared/sync/protocol.ts'
import { appConfigSchema, areasResponseSchema, loginResponseSchema } from '#shared/schemas/api.ts'
import type { AppConfig, Area, LoginResponse } from '#shared/schemas/api.ts'
import { AuthError, RequestError, TransportError } from './ports.ts'
import type { Transport } from './ports.ts'

export interface HttpTransportOptions {
  baseUrl?: string
  /** The session token, or null when logged out. */
  getToken: () => string | null | undefined | Promise<string | null | undefined>
  fetch?: typeof globalThis.fetch
  timeoutMs?: number
}

export interface LoginRequest {
  username: string
  password: string
  deviceId: string
}

export interface HttpTransport extends Transport {
  login(request: LoginRequest): Promise<LoginResponse>
  logout(): Promise<void>
  fetchAreas(): Promise<Area[]>
  fetchConfig(): Promise<AppConfig>
}

export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const baseUrl = (options.baseUrl ?? '').replace(/\/$/, '')
  const timeoutMs = options.timeoutMs ?? 60_000

  async function request<T>(
    method: 'GET' | 'POST',
    path: string,
    schema: z.ZodType<T>,
    init: { body?: unknown; auth?: boolean } = {},
  ): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (init.body !== undefined) headers['Content-Type'] = 'application/json'
    if (init.auth !== false) {
      const token = await options.getToken()
      if (!token) throw new AuthError('not logged in')
      headers['Authorization'] = `Bearer ${token}`
    }
    const doFetch = options.fetch ?? globalThis.fetch
    let response: Response
    try {
      response = await doFetch(`${baseUrl}${path}`, {
        method,
        headers,
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        // AbortSignal.timeout is missing on older Android WebViews: then the request has no timeout.
        signal: typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(timeoutMs) : null,
      })
    } catch (error) {
      throw new TransportError(`network error: ${String(error)}`, undefined, { cause: error })
    }
    const body: unknown = await response.json().catch(() => undefined)
    if (!response.ok) {
      const parsed = apiErrorSchema.safeParse(body)
      const error = parsed.success
        ? parsed.data.error
        : { code: 'http_' + response.status, message: response.statusText }
      if (response.status === 401) throw new AuthError(error.message, error.code)
      if (response.status >= 500 || response.status === 408 || response.status === 429 || !parsed.success) {
        throw new TransportError(`server error ${response.status}: ${error.message}`, response.status)
      }
      throw new RequestError(error.message, response.status, error.code, error.field)
    }
    const parsed = schema.safeParse(body)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new TransportError(
        `unexpected response from ${path}: ${issue?.path.join('.')} ${issue?.message}`,
        response.status,
      )
    }
    return parsed.data
  }

  return {
    push: (body: PushRequest): Promise<PushResponse> =>
      request('POST', '/api/sync/push', pushResponseSchema, { body }),
    pull: (query: PullQuery): Promise<PullResponse> => {
      const params = new URLSearchParams({
        deviceId: query.deviceId,
        since: String(query.since),
        limit: String(query.limit),
        protocol: String(query.protocol),
      })
      return request('GET', `/api/sync/pull?${params}`, pullResponseSchema)
    },
    login: (body) => request('POST', '/api/auth/login', loginResponseSchema, { body, auth: false }),
    async logout() {
      await request('POST', '/api/auth/logout', z.unknown(), { body: {} })
    },
    fetchAreas: async () => (await request('GET', '/api/areas', areasResponseSchema)).areas,
    fetchConfig: () => request('GET', '/api/config', appConfigSchema, { auth: false }),
  }
}
