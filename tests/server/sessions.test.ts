import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import request from 'supertest'
import { loginResponseSchema } from '#shared/schemas/api.ts'
import type { LoginResponse } from '#shared/schemas/api.ts'
import { PROTOCOL_VERSION, apiErrorSchema } from '#shared/sync/protocol.ts'
import { pino } from 'pino'
import { createApp } from '../../server/app.ts'
import { hashPasswordScrypt } from '../../server/services/password.ts'
import {
  PASSWORD,
  addUser,
  bearer,
  createOp,
  loginSession,
  pull,
  push,
  stamp,
  startTestServer,
} from '../fixtures/serverHarness.ts'
import type { TestServer } from '../fixtures/serverHarness.ts'

const A = 'device-a-0001'
const B = 'device-b-0002'
const R1 = '01900000-0000-7000-8000-000000000001'
const MINUTE = 60_000
const DAY = 24 * 60 * MINUTE

let server: TestServer

beforeEach(async () => {
  // Behind a proxy on loopback (supertest's address): the client address comes from X-Forwarded-For.
  server = await startTestServer({ env: { TRUST_PROXY: 'loopback' } })
  await addUser(server, 'alice')
})
afterEach(() => server.close())

const errorOf = (body: unknown) => apiErrorSchema.parse(body).error
const areas = (token: string) => request(server.app).get('/api/areas').set(bearer(token))
const refresh = (refreshToken: string, deviceId = A) =>
  request(server.app).post('/api/auth/refresh').send({ refreshToken, deviceId })
const attempt = (username: string, password: string, ip?: string) => {
  const req = request(server.app).post('/api/auth/login')
  if (ip) req.set('X-Forwarded-For', ip)
  return req.send({ username, password, deviceId: A })
}

describe('access and refresh tokens', () => {
  it('answers an expired access token with 401 token_expired, an unknown one with 401 unauthorized', async () => {
    const session = await loginSession(server, 'alice', A)
    expect((await areas(session.accessToken)).status).toBe(200)
    server.clock.now = session.accessExpiresAt - 1
    expect((await areas(session.accessToken)).status).toBe(200)
    server.clock.now = session.accessExpiresAt
    const expired = await areas(session.accessToken)
    expect(expired.status).toBe(401)
    expect(errorOf(expired.body).code).toBe('token_expired')
    const unknown = await areas('x'.repeat(43))
    expect(unknown.status).toBe(401)
    expect(errorOf(unknown.body).code).toBe('unauthorized')
  })

  it('rotates on refresh: new tokens work, the old refresh token is spent', async () => {
    const first = await loginSession(server, 'alice', A)
    server.clock.now += 20 * MINUTE
    const res = await refresh(first.refreshToken)
    expect(res.status).toBe(200)
    const second = loginResponseSchema.parse(res.body)
    expect(second.user.username).toBe('alice')
    expect(second.accessToken).not.toBe(first.accessToken)
    expect(second.refreshToken).not.toBe(first.refreshToken)
    expect(second.accessExpiresAt).toBe(server.clock.now + 15 * MINUTE)
    expect(second.refreshExpiresAt).toBe(server.clock.now + 30 * DAY)
    expect((await areas(second.accessToken)).status).toBe(200)
    expect(errorOf((await areas(first.accessToken)).body).code).toBe('token_expired')
  })

  it('treats a reused refresh token as theft: every session of that device is revoked', async () => {
    const first = await loginSession(server, 'alice', A)
    const second = loginResponseSchema.parse((await refresh(first.refreshToken)).body)
    const reused = await refresh(first.refreshToken)
    expect(reused.status).toBe(401)
    expect(errorOf(reused.body).code).toBe('unauthorized')
    // The legitimate holder's fresh tokens die with it.
    expect(errorOf((await areas(second.accessToken)).body).code).toBe('unauthorized')
    expect((await refresh(second.refreshToken)).status).toBe(401)
    const sessions = await server.store.kysely.selectFrom('sessions').selectAll().execute()
    expect(sessions.map((s) => s.revoked_reason)).toEqual(['refresh_token_reused'])
  })

  it('refuses an expired refresh token and one presented by another device, without rotating it', async () => {
    const session = await loginSession(server, 'alice', A)
    const wrongDevice = await refresh(session.refreshToken, B)
    expect(wrongDevice.status).toBe(401)
    server.clock.now = session.refreshExpiresAt
    const expired = await refresh(session.refreshToken)
    expect(expired.status).toBe(401)
    expect(errorOf(expired.body).code).toBe('unauthorized')
    server.clock.now = session.refreshExpiresAt - 1
    expect((await refresh(session.refreshToken)).status).toBe(200)
  })

  it('logs out: the device session is revoked (access and refresh), other devices keep theirs', async () => {
    await addUser(server, 'bob')
    const alice = await loginSession(server, 'alice', A)
    const bob = await loginSession(server, 'bob', B)
    const out = await request(server.app).post('/api/auth/logout').set(bearer(alice.accessToken))
    expect(out.status).toBe(200)
    expect(out.body).toEqual({ ok: true })
    expect(errorOf((await areas(alice.accessToken)).body).code).toBe('unauthorized')
    expect((await refresh(alice.refreshToken)).status).toBe(401)
    expect((await areas(bob.accessToken)).status).toBe(200)
    // Logging out again, or without a token, still answers ok.
    expect((await request(server.app).post('/api/auth/logout').set(bearer(alice.accessToken))).status).toBe(
      200,
    )
    expect((await request(server.app).post('/api/auth/logout')).status).toBe(200)
  })

  it('keeps one live session per device: a new login on it revokes the previous one', async () => {
    const first = await loginSession(server, 'alice', A)
    const second = await loginSession(server, 'alice', A)
    expect(errorOf((await areas(first.accessToken)).body).code).toBe('unauthorized')
    expect((await areas(second.accessToken)).status).toBe(200)
  })

  it('answers 403 device_mismatch when a push or pull names another device than the session', async () => {
    const { accessToken } = await loginSession(server, 'alice', A)
    const pushed = await push(server, accessToken, B, [createOp(1, R1, stamp(-1000, B))])
    expect(pushed.status).toBe(403)
    expect(errorOf(pushed.body)).toMatchObject({ code: 'device_mismatch', field: 'deviceId' })
    const pulled = await pull(server, accessToken, B)
    expect(pulled.status).toBe(403)
    expect(errorOf(pulled.body).code).toBe('device_mismatch')
    const records = await server.store.kysely.selectFrom('records').select('id').execute()
    expect(records).toEqual([])
    expect((await pull(server, accessToken, A)).status).toBe(200)
  })
})

describe('login rate limit', () => {
  it('refuses the 6th attempt within 15 minutes with 429, Retry-After and a Chinese message', async () => {
    for (let i = 0; i < 5; i++) {
      server.clock.now += MINUTE
      expect((await attempt('alice', 'wrong password')).status).toBe(401)
    }
    server.clock.now += MINUTE
    // Even the right password is refused while the limit holds: the attacker learns nothing.
    const blocked = await attempt('alice', PASSWORD)
    expect(blocked.status).toBe(429)
    expect(errorOf(blocked.body).code).toBe('too_many_attempts')
    expect(errorOf(blocked.body).message).toMatch(/登录失败次数过多.*分钟后再试/)
    // The first failure (at +1 min) leaves the window at +16 min; now is +6 min.
    expect(blocked.headers['retry-after']).toBe(String(10 * 60))
    server.clock.now += 10 * MINUTE
    expect((await attempt('alice', PASSWORD)).status).toBe(200)
  })

  it('counts per username whatever the address, and a success clears that count', async () => {
    for (let i = 0; i < 4; i++) expect((await attempt('alice', 'wrong', `10.0.0.${i}`)).status).toBe(401)
    expect((await attempt('alice', PASSWORD, '10.0.1.1')).status).toBe(200)
    for (let i = 0; i < 4; i++) expect((await attempt('alice', 'wrong', `10.0.2.${i}`)).status).toBe(401)
    expect((await attempt('alice', PASSWORD, '10.0.3.1')).status).toBe(200)
    for (let i = 0; i < 5; i++) await attempt('alice', 'wrong', `10.0.4.${i}`)
    expect((await attempt('alice', PASSWORD, '10.0.5.1')).status).toBe(429)
  })

  it('counts per client address across usernames, unknown ones included', async () => {
    await addUser(server, 'bob')
    for (const name of ['nobody1', 'nobody2', 'nobody3', 'alice', 'nobody4']) {
      expect((await attempt(name, 'wrong', '10.9.9.9')).status).toBe(401)
    }
    const blocked = await attempt('bob', PASSWORD, '10.9.9.9')
    expect(blocked.status).toBe(429)
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0)
    expect((await attempt('bob', PASSWORD, '10.9.9.10')).status).toBe(200)
  })

  it('keeps the counts in the database, so another server process over it sees them', async () => {
    for (let i = 0; i < 5; i++) await attempt('alice', 'wrong')
    const other = createApp({
      store: server.store,
      config: server.config,
      now: () => server.clock.now,
      logger: pino({ level: 'silent' }),
    })
    const res = await request(other)
      .post('/api/auth/login')
      .send({ username: 'alice', password: PASSWORD, deviceId: A })
    expect(res.status).toBe(429)
  })
})

describe('accounts', () => {
  it('refuses a disabled user (403 account_disabled) and revokes their sessions when disabled', async () => {
    const admin = await addUser(server, 'root', 'admin', ['330523'])
    const alice = await loginSession(server, 'alice', A)
    const adminToken = (await loginSession(server, 'root', B)).accessToken
    const users = await request(server.app).get('/api/admin/users').set(bearer(adminToken))
    const aliceId = (users.body.users as { id: string; username: string }[]).find(
      (u) => u.username === 'alice',
    )!.id
    const res = await request(server.app)
      .patch(`/api/admin/users/${aliceId}`)
      .set(bearer(adminToken))
      .send({ disabled: true })
    expect(res.status).toBe(200)
    expect(res.body.user).toMatchObject({ username: 'alice', disabled: true })

    expect(errorOf((await areas(alice.accessToken)).body).code).toBe('unauthorized')
    expect((await refresh(alice.refreshToken)).status).toBe(401)
    const login = await attempt('alice', PASSWORD)
    expect(login.status).toBe(403)
    expect(errorOf(login.body).code).toBe('account_disabled')
    // A wrong password still gets the ordinary answer: being disabled is only told to whoever knows the password.
    expect(errorOf((await attempt('alice', 'wrong')).body).code).toBe('invalid_credentials')
    expect(admin.role).toBe('admin')
  })

  it('verifies an old scrypt hash and replaces it with argon2id on login', async () => {
    await server.store.insertUser({
      id: 'legacy-user-0001',
      username: 'legacy',
      displayName: '老用户',
      role: 'worker',
      areaIds: ['330523102001001'],
      passwordHash: await hashPasswordScrypt(PASSWORD, 10),
      createdAt: 0,
    })
    expect((await attempt('legacy', 'wrong')).status).toBe(401)
    const hashOf = async () =>
      (
        await server.store.kysely
          .selectFrom('users')
          .select('password_hash')
          .where('username', '=', 'legacy')
          .executeTakeFirstOrThrow()
      ).password_hash
    expect(await hashOf()).toMatch(/^scrypt\$/)
    const ok = await attempt('legacy', PASSWORD)
    expect(ok.status).toBe(200)
    expect(await hashOf()).toMatch(/^\$argon2id\$/)
    expect((await attempt('legacy', PASSWORD)).status).toBe(200)
  })

  it('parses every login response with the shared schema', async () => {
    const session: LoginResponse = await loginSession(server, 'alice', A)
    expect(loginResponseSchema.safeParse(session).success).toBe(true)
    const res = await pull(server, session.accessToken, A)
    expect(res.body).toMatchObject({ protocol: PROTOCOL_VERSION, scopeKey: expect.any(String) })
  })
})

describe('token housekeeping', () => {
  it('prunes spent tokens once they could no longer be presented, and expired sessions on the next login', async () => {
    const db = server.store.kysely
    const count = async (table: 'access_tokens' | 'refresh_tokens') =>
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n
    let session = await loginSession(server, 'alice', A)
    for (let i = 0; i < 6; i++) {
      server.clock.now = session.accessExpiresAt
      session = loginResponseSchema.parse((await refresh(session.refreshToken)).body)
    }
    // Refresh tokens rotated within their 30 days are kept (a reuse is still detected), old access tokens are not.
    expect(await count('refresh_tokens')).toBe(7)
    expect(await count('access_tokens')).toBeLessThanOrEqual(2)
    server.clock.now = session.refreshExpiresAt
    await addUser(server, 'bob')
    await loginSession(server, 'bob', B)
    expect(await db.selectFrom('sessions').select('device_id').execute()).toEqual([{ device_id: B }])
    expect(await count('refresh_tokens')).toBe(1)
  })
})
