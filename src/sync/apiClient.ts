/**
 * JSON requests to the server with the session's access token, shared by the sync transport and the admin API.
 *
 * Invariants:
 * - A 401 while a refresh token is held triggers ONE refresh (POST /api/auth/refresh), shared by every request that
 *   failed meanwhile (single-flight: the server rotates the refresh token on every use, so a second refresh with the
 *   old one would look like a stolen token and revoke the session). The rotated tokens are stored before any
 *   request is retried, and each request is retried at most once.
 * - A request that failed with a token another request has already replaced is retried with the new token, not
 *   refreshed again.
 * - A refused refresh is an AuthError: the caller asks for the password again; nothing stored is dropped here.
 *   A refresh that could not reach the server is a TransportError: the session may still be good.
 * - A body asked to be gzipped (the sync push) goes with Content-Encoding: gzip only when it is at least
 *   GZIP_MIN_BYTES of JSON and the browser has CompressionStream; otherwise, and for good once a server or proxy
 *   refused gzip with 415, as plain JSON. The server inflates it within its body limit.
 */
import type { z } from 'zod'
import { apiErrorSchema } from '#shared/sync/protocol.ts'
import { loginResponseSchema } from '#shared/schemas/api.ts'
import type { LoginResponse } from '#shared/schemas/api.ts'
import { AuthError, RequestError, TransportError } from './ports.ts'

export interface SessionTokenStore {
  /** The stored tokens, or null when nobody is logged in. An empty refresh token means none is held. */
  tokens(): Promise<{ accessToken: string; refreshToken: string } | null>
  /** Keep rotated tokens (and the user as the server now describes them). */
  save(response: LoginResponse): Promise<void>
  deviceId(): Promise<string>
}

export interface ApiClientOptions {
  baseUrl?: string
  session: SessionTokenStore
  fetch?: typeof globalThis.fetch
  timeoutMs?: number
}

export type HttpMethod = 'GET' | 'POST' | 'PATCH'

export interface ApiRequestInit {
  body?: unknown
  /** false: send no token (login, config). */
  auth?: boolean
  /** Gzip the body when it is large and the browser can (see GZIP_MIN_BYTES); the sync push asks for it. */
  gzip?: boolean
}

/** Bodies shorter than this go as plain JSON: gzip saves little on them and costs a stream round trip. */
export const GZIP_MIN_BYTES = 1024

/** A body ready to send: its JSON text, or that text gzipped. */
interface EncodedBody {
  data: string | ArrayBuffer
  gzipped: boolean
}

/**
 * Gzip `text` with the browser's CompressionStream; null when there is none (older Android WebViews) or it fails:
 * the caller then sends the JSON as it is.
 */
async function gzipText(text: string): Promise<ArrayBuffer | null> {
  if (typeof CompressionStream !== 'function') return null
  try {
    const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'))
    return await new Response(stream).arrayBuffer()
  } catch {
    return null
  }
}

export interface ApiClient {
  request<T>(method: HttpMethod, path: string, schema: z.ZodType<T>, init?: ApiRequestInit): Promise<T>
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), if it has one. */
function retryAfterSeconds(header: string | null, now: number): number | undefined {
  if (!header) return undefined
  if (/^\d+$/.test(header.trim())) return Number(header.trim())
  const at = Date.parse(header)
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000))
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const baseUrl = (options.baseUrl ?? '').replace(/\/$/, '')
  const timeoutMs = options.timeoutMs ?? 60_000
  const { session } = options
  let refreshing: Promise<string> | null = null
  /** Set when the server (or a proxy before it) refused a gzipped body with 415: plain JSON from then on. */
  let gzipRefused = false

  async function encode(body: unknown, gzip: boolean): Promise<EncodedBody | undefined> {
    if (body === undefined) return undefined
    const text = JSON.stringify(body)
    if (!gzip || gzipRefused || text.length < GZIP_MIN_BYTES) return { data: text, gzipped: false }
    const gzipped = await gzipText(text)
    return gzipped ? { data: gzipped, gzipped: true } : { data: text, gzipped: false }
  }

  /** `send` with an encoded body; a gzipped one refused with 415 goes once more as plain JSON. */
  async function sendEncoded<T>(
    method: HttpMethod,
    path: string,
    schema: z.ZodType<T>,
    body: unknown,
    encoded: EncodedBody | undefined,
    token: string | null,
  ): Promise<T> {
    try {
      return await send(method, path, schema, encoded, token)
    } catch (error) {
      if (!encoded?.gzipped || !(error instanceof RequestError) || error.status !== 415) throw error
      gzipRefused = true
      return send(method, path, schema, { data: JSON.stringify(body), gzipped: false }, token)
    }
  }

  async function send<T>(
    method: HttpMethod,
    path: string,
    schema: z.ZodType<T>,
    body: EncodedBody | undefined,
    token: string | null,
  ): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    if (body?.gzipped) headers['Content-Encoding'] = 'gzip'
    if (token !== null) headers['Authorization'] = `Bearer ${token}`
    const doFetch = options.fetch ?? globalThis.fetch
    let response: Response
    try {
      response = await doFetch(`${baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: body.data }),
        // AbortSignal.timeout is missing on older Android WebViews: then the request has no timeout.
        signal: typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(timeoutMs) : null,
      })
    } catch (error) {
      throw new TransportError(`network error: ${String(error)}`, undefined, { cause: error })
    }
    const payload: unknown = await response.json().catch(() => undefined)
    if (!response.ok) {
      const parsed = apiErrorSchema.safeParse(payload)
      const error = parsed.success
        ? parsed.data.error
        : { code: 'http_' + response.status, message: response.statusText, field: undefined }
      const { status } = response
      if (status === 401) throw new AuthError(error.message, error.code, status)
      if (status === 403 && (error.code === 'device_mismatch' || error.code === 'account_disabled'))
        throw new AuthError(error.message, error.code, status)
      if (status >= 500 || status === 408 || status === 429 || !parsed.success) {
        const retryAfter = retryAfterSeconds(response.headers.get('Retry-After'), Date.now())
        throw new TransportError(`server error ${status}: ${error.message}`, status, {
          code: error.code,
          ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
        })
      }
      throw new RequestError(error.message, status, error.code, error.field)
    }
    const parsed = schema.safeParse(payload)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new TransportError(
        `unexpected response from ${path.split('?')[0]}: ${issue?.path.join('.')} ${issue?.message}`,
        response.status,
      )
    }
    return parsed.data
  }

  /** One refresh at a time; resolves with the new access token. */
  function refresh(refreshToken: string): Promise<string> {
    refreshing ??= (async () => {
      try {
        const deviceId = await session.deviceId()
        const body = await encode({ refreshToken, deviceId }, false)
        const rotated = await send('POST', '/api/auth/refresh', loginResponseSchema, body, null)
        await session.save(rotated)
        return rotated.accessToken
      } catch (error) {
        // 400/403 from the refresh endpoint: the refresh token is not accepted, like a 401.
        if (error instanceof RequestError) throw new AuthError(error.message, error.code, error.status)
        throw error
      } finally {
        refreshing = null
      }
    })()
    return refreshing
  }

  return {
    async request(method, path, schema, init = {}) {
      // Encoded once: a retry after a token refresh sends the same bytes.
      const encoded = await encode(init.body, init.gzip === true)
      if (init.auth === false) return sendEncoded(method, path, schema, init.body, encoded, null)
      const held = await session.tokens()
      if (!held) throw new AuthError('尚未登录', 'not_logged_in')
      try {
        return await sendEncoded(method, path, schema, init.body, encoded, held.accessToken)
      } catch (error) {
        if (!(error instanceof AuthError) || error.status !== 401) throw error
      }
      const current = await session.tokens()
      if (!current) throw new AuthError('已退出登录', 'not_logged_in')
      let token = current.accessToken
      if (token === held.accessToken) {
        if (!current.refreshToken) throw new AuthError('登录已过期，请重新登录', 'token_expired')
        token = await refresh(current.refreshToken)
      }
      return sendEncoded(method, path, schema, init.body, encoded, token)
    },
  }
}
