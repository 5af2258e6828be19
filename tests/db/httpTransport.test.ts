import { describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION } from '#shared/sync/protocol.ts'
import type { PushRequest } from '#shared/sync/protocol.ts'
import { createApiClient } from '../../src/sync/apiClient.ts'
import { createHttpTransport } from '../../src/sync/httpTransport.ts'
import { AuthError, RequestError, TransportError } from '../../src/sync/ports.ts'

const CLOCK = '1700000000000:0000:server'

function fakeFetch(respond: (url: string, init: RequestInit) => Response | Promise<Response>) {
  const calls: { url: string; init: RequestInit }[] = []
  const fetch = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    calls.push({ url: String(input), init })
    return respond(String(input), init)
  }
  return { fetch: fetch as typeof globalThis.fetch, calls }
}
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })

/** A transport whose session holds `token` (no refresh token: a 401 is final), or no session. */
function transport(options: { fetch: typeof globalThis.fetch; token?: string | null; baseUrl?: string }) {
  const token = options.token === undefined ? 'tok' : options.token
  const client = createApiClient({
    ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }),
    fetch: options.fetch,
    session: {
      tokens: async () => (token === null ? null : { accessToken: token, refreshToken: '' }),
      save: async () => undefined,
      deviceId: async () => 'device0001',
    },
  })
  return createHttpTransport(client)
}

const push: PushRequest = {
  protocol: PROTOCOL_VERSION,
  deviceId: 'device0001',
  ops: [
    {
      type: 'delete',
      seq: 1,
      kind: 'household',
      id: '0190a000-0000-7000-8000-000000000001',
      stamp: '1700000000000:0000:device0001',
      base: {},
    },
  ],
}

describe('createHttpTransport', () => {
  it('pushes JSON with the bearer token and parses the answer', async () => {
    const { fetch, calls } = fakeFetch(() =>
      json(200, { protocol: 1, clock: CLOCK, results: [{ seq: 1, status: 'applied' }] }),
    )
    const http = transport({ baseUrl: 'https://gp.example/', fetch })
    expect(await http.push(push)).toEqual({
      protocol: 1,
      clock: CLOCK,
      results: [{ seq: 1, status: 'applied' }],
    })
    expect(calls[0]!.url).toBe('https://gp.example/api/sync/push')
    expect(calls[0]!.init.method).toBe('POST')
    expect((calls[0]!.init.headers as Record<string, string>)['Authorization']).toBe('Bearer tok')
    expect(JSON.parse(String(calls[0]!.init.body))).toEqual(push)
  })

  it('pulls with query parameters', async () => {
    const { fetch, calls } = fakeFetch(() =>
      json(200, { protocol: 1, clock: CLOCK, records: [], cursor: 7, more: false, scopeKey: 'k' }),
    )
    const page = await transport({ fetch }).pull({
      deviceId: 'device0001',
      since: 7,
      limit: 1000,
      protocol: 1,
    })
    expect(page.cursor).toBe(7)
    expect(calls[0]!.url).toBe('/api/sync/pull?deviceId=device0001&since=7&limit=1000&protocol=1')
  })

  it('maps failures: 401 → AuthError, 5xx/network/unreadable → TransportError, other 4xx → RequestError', async () => {
    const cases: [() => Response | Promise<Response>, unknown][] = [
      [() => json(401, { error: { code: 'unauthorized', message: '请重新登录' } }), AuthError],
      [() => json(503, { error: { code: 'internal', message: 'busy' } }), TransportError],
      [() => Promise.reject(new TypeError('Failed to fetch')), TransportError],
      [() => new Response('<html>', { status: 200 }), TransportError],
      [() => json(200, { protocol: 1, clock: 'not a stamp', results: [] }), TransportError],
      [() => json(409, { error: { code: 'protocol_version', message: '请更新应用' } }), RequestError],
    ]
    for (const [respond, type] of cases) {
      await expect(transport({ fetch: fakeFetch(respond).fetch }).push(push)).rejects.toBeInstanceOf(type)
    }
    const http = transport({
      fetch: fakeFetch(() =>
        json(400, { error: { code: 'invalid_request', message: 'bad', field: 'ops.0.seq' } }),
      ).fetch,
    })
    await expect(http.push(push)).rejects.toMatchObject({
      status: 400,
      code: 'invalid_request',
      field: 'ops.0.seq',
    })
  })

  it('does not send a request needing a session without a token', async () => {
    const { fetch, calls } = fakeFetch(() => json(200, {}))
    await expect(transport({ fetch, token: null }).fetchAreas()).rejects.toBeInstanceOf(AuthError)
    expect(calls).toHaveLength(0)
  })

  it('logs in without a token and parses the user', async () => {
    const user = {
      id: 3,
      username: 'wang',
      displayName: '王网格员',
      role: 'worker',
      areaIds: ['330523101001001'],
    }
    const tokens = { accessToken: 'abc', accessExpiresAt: 1, refreshToken: 'def', refreshExpiresAt: 2 }
    const { fetch, calls } = fakeFetch(() => json(200, { ...tokens, user }))
    const result = await transport({ fetch, token: null }).login({
      username: 'wang',
      password: 'pw',
      deviceId: 'device0001',
    })
    expect(result).toEqual({ ...tokens, user: { ...user, id: '3' } })
    expect((calls[0]!.init.headers as Record<string, string>)['Authorization']).toBeUndefined()
  })
})
