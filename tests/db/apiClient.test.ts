import { afterEach, describe, expect, it, vi } from 'vitest'
import { Dexie } from 'dexie'
import { v7 } from 'uuid'
import { PROTOCOL_VERSION } from '#shared/sync/protocol.ts'
import type { SessionUser } from '#shared/schemas/api.ts'
import { GridPatrolDb } from '../../src/db/GridPatrolDb.ts'
import { createApiClient } from '../../src/sync/apiClient.ts'
import { createHttpTransport } from '../../src/sync/httpTransport.ts'
import { AuthError } from '../../src/sync/ports.ts'
import { sessionTokenStore } from '../../src/stores/services.ts'
import { FakeHttpServer } from './fakeHttpServer.ts'
import { GRID, freshDbName } from './testDevice.ts'

const WORKER: SessionUser = {
  id: 'u1',
  username: 'worker1',
  displayName: '王网格员',
  role: 'worker',
  areaIds: [GRID],
}

const opened: GridPatrolDb[] = []
afterEach(async () => {
  for (const db of opened.splice(0)) if (db.isOpen()) await db.delete()
})

/** A device database with a logged-in worker, talking to a fake HTTP server through the real client. */
async function loggedIn() {
  const http = new FakeHttpServer()
  http.addUser(WORKER, 'secret')
  const db = new GridPatrolDb(freshDbName())
  opened.push(db)
  const newId = () => v7()
  const transport = createHttpTransport(
    createApiClient({ session: sessionTokenStore(() => db, newId), fetch: http.fetch }),
  )
  const deviceId = await db.ensureDeviceId(() => newId().replaceAll('-', ''))
  const session = await transport.login({ username: 'worker1', password: 'secret', deviceId })
  await db.setMeta('session', session)
  const pull = () => transport.pull({ deviceId, since: 0, limit: 10, protocol: PROTOCOL_VERSION })
  return { http, db, transport, deviceId, session, pull }
}

describe('the API client and the session tokens', () => {
  it('on token_expired it refreshes, stores the rotated tokens and retries the request once', async () => {
    const { http, db, session, pull } = await loggedIn()
    http.expireAccessTokens()
    const page = await pull()
    expect(page.scopeKey).toBe('scope-1')
    expect(http.refreshCalls).toBe(1)
    const stored = (await db.getMeta('session'))!
    expect(stored.accessToken).not.toBe(session.accessToken)
    expect(stored.refreshToken).not.toBe(session.refreshToken)
    expect(stored.user).toEqual(WORKER)
    const pulls = http.requests.filter((r) => r.path === '/api/sync/pull')
    expect(pulls.map((r) => r.token)).toEqual([session.accessToken, stored.accessToken])
  })

  it('two concurrent requests share one refresh (single-flight) and both succeed', async () => {
    const { http, db, transport, deviceId, session, pull } = await loggedIn()
    http.expireAccessTokens()
    let release!: () => void
    http.refreshGate = new Promise<void>((resolve) => (release = resolve))
    const both = Promise.all([pull(), transport.push({ protocol: 1, deviceId, ops: [pushOp()] })])
    // Both requests were refused with the old token before the refresh answered.
    await vi.waitFor(() =>
      expect(
        http.requests.filter((r) => r.token === session.accessToken && r.path !== '/api/auth/login'),
      ).toHaveLength(2),
    )
    await vi.waitFor(() => expect(http.refreshCalls).toBe(1))
    await new Promise((resolve) => setTimeout(resolve, 10))
    release()
    const [page, pushed] = await both
    expect(page.more).toBe(false)
    expect(pushed.results).toEqual([{ seq: 1, status: 'applied' }])
    expect(http.refreshCalls).toBe(1)
    const stored = (await db.getMeta('session'))!
    const retried = http.requests.filter((r) => r.token === stored.accessToken)
    expect(retried.map((r) => r.path).sort()).toEqual(['/api/sync/pull', '/api/sync/push'])
  })

  it('a refused refresh is an AuthError and leaves the stored session (the user still works offline)', async () => {
    const { http, db, session, pull } = await loggedIn()
    http.expireAccessTokens()
    http.revokeSessions()
    await expect(pull()).rejects.toBeInstanceOf(AuthError)
    expect(http.refreshCalls).toBe(1)
    expect(await db.getMeta('session')).toEqual(session)
  })

  it('a refresh that cannot reach the server is a TransportError (the session may still be good)', async () => {
    const { http, pull } = await loggedIn()
    http.expireAccessTokens()
    http.unreachable = /^\/api\/auth\/refresh$/
    await expect(pull()).rejects.toMatchObject({ name: 'TransportError', status: undefined })
  })

  it('without a refresh token (a session from before tokens rotated) a 401 asks for the password', async () => {
    const { http, db, session, pull } = await loggedIn()
    await db.setMeta('session', { ...session, refreshToken: '' })
    http.expireAccessTokens()
    await expect(pull()).rejects.toMatchObject({ name: 'AuthError', code: 'token_expired' })
    expect(http.refreshCalls).toBe(0)
  })

  it('maps 403 device_mismatch to AuthError and 429 to a TransportError with the wait', async () => {
    const respond = vi.fn<() => Response>()
    const client = createApiClient({
      fetch: (async () => respond()) as typeof globalThis.fetch,
      session: {
        tokens: async () => ({ accessToken: 'a', refreshToken: 'r' }),
        save: async () => undefined,
        deviceId: async () => 'device0001',
      },
    })
    const transport = createHttpTransport(client)
    const error = (status: number, code: string, headers: Record<string, string> = {}) =>
      new Response(JSON.stringify({ error: { code, message: code } }), { status, headers })

    respond.mockReturnValueOnce(error(403, 'device_mismatch'))
    await expect(transport.fetchAreas()).rejects.toMatchObject({
      name: 'AuthError',
      code: 'device_mismatch',
      status: 403,
    })
    respond.mockReturnValueOnce(error(429, 'too_many_attempts', { 'Retry-After': '30' }))
    await expect(
      transport.login({ username: 'a', password: 'b', deviceId: 'device0001' }),
    ).rejects.toMatchObject({
      name: 'TransportError',
      status: 429,
      code: 'too_many_attempts',
      retryAfterSeconds: 30,
    })
    expect(respond).toHaveBeenCalledTimes(2) // no refresh for a 403
  })

  it('a session stored before refresh tokens is upgraded in place (empty refresh token)', async () => {
    const name = freshDbName()
    const legacy = new Dexie(name)
    legacy.version(1).stores({
      records: 'id, kind, [kind+deleted+updatedAt], gridId, pending',
      outbox: '++seq, id',
      refused: 'seq, id',
      meta: 'key',
      areas: 'id, level, parentId',
    })
    await legacy.table('meta').put({ key: 'session', value: { token: 'old-token', user: WORKER } })
    await legacy.table('meta').put({ key: 'deviceId', value: 'device0001' })
    legacy.close()

    const db = new GridPatrolDb(name)
    opened.push(db)
    expect(await db.getMeta('session')).toEqual({
      accessToken: 'old-token',
      accessExpiresAt: 0,
      refreshToken: '',
      refreshExpiresAt: 0,
      user: WORKER,
    })
    expect(await db.getMeta('deviceId')).toBe('device0001')
  })
})

function pushOp() {
  return {
    type: 'put' as const,
    seq: 1,
    kind: 'household' as const,
    id: v7(),
    stamp: '1700000000000:0000:device0001',
    base: { gridId: null, address: null, housing: null, headName: null },
    create: true,
    fields: { gridId: GRID, address: '横山村1号', housing: 'owned', headName: '王五' },
  }
}
