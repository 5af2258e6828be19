import { gunzipSync } from 'node:zlib'
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

describe('gzipped push bodies', () => {
  /** A push large enough to be gzipped: 40 households' worth of ops. */
  const bigPush: PushRequest = {
    protocol: PROTOCOL_VERSION,
    deviceId: 'device0001',
    ops: Array.from({ length: 40 }, (_, i) => ({
      type: 'put' as const,
      seq: i + 1,
      kind: 'household' as const,
      id: `0190a000-0000-7000-8000-${String(i + 1).padStart(12, '0')}`,
      stamp: '1700000000000:0000:device0001',
      base: { headName: null, address: null },
      create: true,
      fields: { headName: `住户 ${i}`, address: `天荒坪镇余村 ${i} 号` },
    })),
  }
  const applied = (request: PushRequest) =>
    json(200, {
      protocol: 1,
      clock: CLOCK,
      results: request.ops.map((op) => ({ seq: op.seq, status: 'applied' })),
    })
  const headersOf = (init: RequestInit) => init.headers as Record<string, string>
  const inflated = (init: RequestInit): unknown =>
    JSON.parse(gunzipSync(new Uint8Array(init.body as ArrayBuffer)).toString('utf8'))

  it('gzips a large push (Content-Encoding: gzip) and sends the same JSON, smaller', async () => {
    const { fetch, calls } = fakeFetch(() => applied(bigPush))
    await transport({ fetch }).push(bigPush)
    const init = calls[0]!.init
    expect(headersOf(init)['Content-Encoding']).toBe('gzip')
    expect(headersOf(init)['Content-Type']).toBe('application/json')
    expect(inflated(init)).toEqual(bigPush)
    expect((init.body as ArrayBuffer).byteLength).toBeLessThan(JSON.stringify(bigPush).length / 3)
  })

  it('sends a small push, and any other request, as plain JSON', async () => {
    const { fetch, calls } = fakeFetch(() => json(200, { field: 'idNumber', value: 'x' }))
    const http = transport({ fetch })
    await http.unmask('person', '0190a000-0000-7000-8000-000000000001', 'idNumber'.padEnd(2000, 'x'))
    expect(headersOf(calls[0]!.init)['Content-Encoding']).toBeUndefined()
    expect(typeof calls[0]!.init.body).toBe('string')

    const small = fakeFetch(() => applied(push))
    await transport({ fetch: small.fetch }).push(push)
    expect(headersOf(small.calls[0]!.init)['Content-Encoding']).toBeUndefined()
    expect(JSON.parse(String(small.calls[0]!.init.body))).toEqual(push)
  })

  it('sends plain JSON where the browser has no CompressionStream', async () => {
    const original = globalThis.CompressionStream
    // @ts-expect-error: an older WebView without the Compression Streams API
    delete globalThis.CompressionStream
    try {
      const { fetch, calls } = fakeFetch(() => applied(bigPush))
      await transport({ fetch }).push(bigPush)
      expect(headersOf(calls[0]!.init)['Content-Encoding']).toBeUndefined()
      expect(JSON.parse(String(calls[0]!.init.body))).toEqual(bigPush)
    } finally {
      globalThis.CompressionStream = original
    }
  })

  it('when a server refuses gzip with 415, sends that push again as plain JSON, and plain from then on', async () => {
    const { fetch, calls } = fakeFetch((_, init) =>
      headersOf(init)['Content-Encoding'] === 'gzip'
        ? json(415, { error: { code: 'unsupported_media_type', message: '不支持的请求编码' } })
        : applied(bigPush),
    )
    const http = transport({ fetch })
    expect((await http.push(bigPush)).results).toHaveLength(40)
    await http.push(bigPush)
    expect(calls.map((c) => headersOf(c.init)['Content-Encoding'] ?? 'plain')).toEqual([
      'gzip',
      'plain',
      'plain',
    ])
    expect(JSON.parse(String(calls[1]!.init.body))).toEqual(bigPush)
  })
})
