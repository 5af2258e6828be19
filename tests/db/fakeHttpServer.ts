/**
 * The HTTP API in front of a FakeServer, as a `fetch`: login, refresh (rotating, single use: a reused refresh token
 * is refused), logout, bearer access tokens that a test can expire, device binding, sync push/pull, the wipe
 * confirmation and unmasking with an audit row. Lets the device's real API client, transport and stores run
 * against it without a network.
 */
import { PROTOCOL_VERSION, pullQuerySchema, pushRequestSchema } from '#shared/sync/protocol.ts'
import type { LoginResponse, SessionUser } from '#shared/schemas/api.ts'
import { canUnmask } from '#shared/domain/permissions.ts'
import { sensitiveTypeOf } from '#shared/domain/privacy.ts'
import type { RecordKind } from '#shared/schemas/records.ts'
import { FakeServer } from './fakeServer.ts'

interface Session {
  user: SessionUser
  deviceId: string
  refreshToken: string
  revoked: boolean
}

interface AccessToken {
  session: Session
  expired: boolean
}

export interface UnmaskAudit {
  userId: string
  deviceId: string
  kind: string
  recordId: string
  field: string
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  })
const fail = (status: number, code: string, message: string) => json(status, { error: { code, message } })

export class FakeHttpServer {
  /** What GET /api/areas answers. */
  areas: unknown[] = []
  readonly sync = new FakeServer()
  readonly users = new Map<string, { password: string; user: SessionUser }>()
  readonly sessions: Session[] = []
  readonly access = new Map<string, AccessToken>()
  /** Every request as (method, path, bearer token). */
  readonly requests: { method: string; path: string; token: string | null }[] = []
  readonly unmasks: UnmaskAudit[] = []
  refreshCalls = 0
  /** Refresh answers wait for this while set (to hold a refresh in flight). */
  refreshGate: Promise<void> | null = null
  /** Clear values of sensitive fields, by record id and field (the sync records hold masked ones). */
  readonly clearValues = new Map<string, Record<string, string>>()
  /** Requests to matching paths fail like a dropped connection. */
  unreachable: RegExp | null = null
  private issued = 0

  addUser(user: SessionUser, password: string): void {
    this.users.set(user.username, { password, user })
  }

  /** Every access token issued so far now answers 401 token_expired. */
  expireAccessTokens(): void {
    for (const token of this.access.values()) token.expired = true
  }

  /** Every session is revoked: access and refresh tokens are refused. */
  revokeSessions(): void {
    for (const session of this.sessions) session.revoked = true
  }

  readonly fetch = (async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input), 'http://device.test')
    const method = init.method ?? 'GET'
    const auth = new Headers(init.headers).get('Authorization')
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : null
    this.requests.push({ method, path: url.pathname, token })
    if (this.unreachable?.test(url.pathname)) throw new TypeError('Failed to fetch')
    const body: unknown = init.body ? JSON.parse(String(init.body)) : undefined
    try {
      return await this.route(method, url, body, token)
    } catch (error) {
      return fail(500, 'internal', String(error))
    }
  }) as typeof globalThis.fetch

  private tokensFor(session: Session): LoginResponse {
    const n = ++this.issued
    const accessToken = `access-${n}-${session.user.id}`
    session.refreshToken = `refresh-${n}-${session.user.id}`
    this.access.set(accessToken, { session, expired: false })
    return {
      accessToken,
      accessExpiresAt: this.sync.now + 15 * 60_000,
      refreshToken: session.refreshToken,
      refreshExpiresAt: this.sync.now + 30 * 86_400_000,
      user: structuredClone(session.user),
    }
  }

  private async route(method: string, url: URL, body: unknown, token: string | null): Promise<Response> {
    const path = url.pathname
    const input = (body ?? {}) as Record<string, unknown>
    if (method === 'POST' && path === '/api/auth/login') {
      const account = this.users.get(String(input['username']))
      if (!account || account.password !== input['password'])
        return fail(401, 'invalid_credentials', '用户名或密码错误')
      const session: Session = {
        user: account.user,
        deviceId: String(input['deviceId']),
        refreshToken: '',
        revoked: false,
      }
      this.sessions.push(session)
      return json(200, this.tokensFor(session))
    }
    if (method === 'POST' && path === '/api/auth/refresh') {
      this.refreshCalls++
      if (this.refreshGate) await this.refreshGate
      const session = this.sessions.find((s) => s.refreshToken === input['refreshToken'])
      if (!session || session.revoked) return fail(401, 'unauthorized', '登录已失效，请重新登录')
      if (session.deviceId !== input['deviceId']) return fail(403, 'device_mismatch', '设备不符')
      session.user = this.users.get(session.user.username)?.user ?? session.user
      return json(200, this.tokensFor(session))
    }

    if (method === 'GET' && path === '/api/config') {
      return json(200, {
        basemapUrl: '',
        basemapAttribution: '',
        maxClockDriftMs: 300_000,
        protocol: PROTOCOL_VERSION,
      })
    }

    const held = token ? this.access.get(token) : undefined
    if (!held || held.session.revoked) return fail(401, 'unauthorized', '登录已失效，请重新登录')
    if (held.expired) return fail(401, 'token_expired', '登录已过期')
    const { session } = held

    if (method === 'POST' && path === '/api/auth/logout') {
      session.revoked = true
      return json(200, { ok: true })
    }
    if (method === 'POST' && path === '/api/sync/push') {
      const request = pushRequestSchema.parse(body)
      if (request.deviceId !== session.deviceId) return fail(403, 'device_mismatch', '设备不符')
      return json(200, await this.sync.push(request))
    }
    if (method === 'GET' && path === '/api/sync/pull') {
      const query = pullQuerySchema.parse(Object.fromEntries(url.searchParams))
      if (query.deviceId !== session.deviceId) return fail(403, 'device_mismatch', '设备不符')
      return json(200, await this.sync.pull(query))
    }
    if (method === 'POST' && path === '/api/devices/wiped') {
      await this.sync.confirmWiped()
      session.revoked = true
      return json(200, { ok: true })
    }
    const unmask = /^\/api\/records\/(\w+)\/([\w-]+)\/unmask$/.exec(path)
    if (method === 'POST' && unmask) {
      const [, kind, id] = unmask as unknown as [string, RecordKind, string]
      const field = String(input['field'])
      if (!canUnmask(session.user.role)) return fail(403, 'forbidden', '无权查看')
      const record = this.sync.records.get(id)
      if (!record || record.kind !== kind) return fail(404, 'not_found', '记录不存在')
      if (!sensitiveTypeOf(kind, field)) return fail(400, 'not_sensitive', '该字段不是敏感字段')
      this.unmasks.push({ userId: session.user.id, deviceId: session.deviceId, kind, recordId: id, field })
      const value = this.clearValues.get(id)?.[field] ?? record.fields[field] ?? null
      return json(200, { field, value })
    }
    if (method === 'GET' && path === '/api/areas') return json(200, { areas: this.areas })
    return fail(404, 'not_found', `no route ${method} ${path}`)
  }
}
