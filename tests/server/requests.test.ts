import { DEFAULT_DEADLINES } from '#shared/domain/deadlines.ts'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import request from 'supertest'
import { loginResponseSchema } from '#shared/schemas/api.ts'
import { PROTOCOL_VERSION, apiErrorSchema } from '#shared/sync/protocol.ts'
import type { ApiError } from '#shared/sync/protocol.ts'
import { createApp } from '../../server/app.ts'
import { pino } from 'pino'
import {
  GRID_A,
  PASSWORD,
  T0,
  addUser,
  createOp,
  householdFields,
  login,
  pushBody,
  snapshot,
  stamp,
  startTestServer,
} from '../fixtures/serverHarness.ts'
import type { TestServer } from '../fixtures/serverHarness.ts'

const A = 'device-a-0001'
const R1 = '01900000-0000-7000-8000-000000000001'

let server: TestServer
let token: string

beforeEach(async () => {
  server = await startTestServer({ env: { BODY_LIMIT: '4kb' } })
  await addUser(server, 'alice')
  token = await login(server, 'alice', A)
})
afterEach(() => server.close())

const auth = () => ({ Authorization: `Bearer ${token}` })
const errorOf = (body: unknown): ApiError['error'] => apiErrorSchema.parse(body).error
const goodOp = () => createOp(1, R1, stamp(-1000, A))

describe('malformed requests', () => {
  const cases: [string, () => unknown, string][] = [
    ['a missing field', () => ({ protocol: PROTOCOL_VERSION, ops: [goodOp()] }), 'deviceId'],
    ['a wrong type', () => pushBody(A, [{ ...goodOp(), seq: 'one' } as never]), 'ops.0.seq'],
    ['an unknown key in an op', () => pushBody(A, [{ ...goodOp(), colour: 'red' } as never]), 'ops.0.colour'],
    ['an invalid stamp', () => pushBody(A, [{ ...goodOp(), stamp: 'yesterday' }]), 'ops.0.stamp'],
    ['an empty batch', () => pushBody(A, []), 'ops'],
    // The field maps (protocol.ts fieldMap): the entry that fails is named.
    ['fields that are a list', () => pushBody(A, [{ ...goodOp(), fields: ['a'] } as never]), 'ops.0.fields'],
    ['fields that are missing', () => pushBody(A, [{ ...goodOp(), fields: null } as never]), 'ops.0.fields'],
    [
      'a field name over 64 characters',
      () => pushBody(A, [{ ...goodOp(), fields: { ['x'.repeat(65)]: 1 } }]),
      `ops.0.fields.${'x'.repeat(65)}`,
    ],
    [
      'an invalid stamp in base',
      () => pushBody(A, [{ ...goodOp(), base: { address: null, headName: 'yesterday' } }]),
      'ops.0.base.headName',
    ],
  ]
  it.each(cases)(
    'answers %s with 400 invalid_request naming the field, storing nothing',
    async (_, body, field) => {
      const before = await snapshot(server)
      const res = await request(server.app)
        .post('/api/sync/push')
        .set(auth())
        .send(body() as object)
      expect(res.status).toBe(400)
      const error = errorOf(res.body)
      expect(error).toMatchObject({ code: 'invalid_request', field })
      expect(error.message).toContain(field)
      expect(await snapshot(server)).toEqual(before)
    },
  )

  it('refuses an unknown field in a record per op (invalid_field, naming it) and stores nothing', async () => {
    const before = await snapshot(server)
    const res = await request(server.app)
      .post('/api/sync/push')
      .set(auth())
      .send(pushBody(A, [createOp(1, R1, stamp(-1000, A), { ...householdFields(), colour: 'red' })]))
    expect(res.status).toBe(200)
    expect(res.body.results).toEqual([
      {
        seq: 1,
        status: 'refused',
        code: 'invalid_field',
        field: 'colour',
        reason: expect.stringContaining('colour'),
      },
    ])
    expect(await snapshot(server)).toEqual(before)
  })

  it('answers bad JSON with 400 invalid_json', async () => {
    const before = await snapshot(server)
    const res = await request(server.app)
      .post('/api/sync/push')
      .set(auth())
      .set('Content-Type', 'application/json')
      .send('{"protocol": 1, "deviceId": ')
    expect(res.status).toBe(400)
    expect(errorOf(res.body).code).toBe('invalid_json')
    expect(await snapshot(server)).toEqual(before)
  })

  it('answers another protocol version with 409 protocol_version, on push and pull', async () => {
    const before = await snapshot(server)
    const pushed = await request(server.app)
      .post('/api/sync/push')
      .set(auth())
      .send({ ...pushBody(A, [goodOp()]), protocol: PROTOCOL_VERSION + 1 })
    expect(pushed.status).toBe(409)
    expect(errorOf(pushed.body)).toMatchObject({ code: 'protocol_version', field: 'protocol' })
    expect(errorOf(pushed.body).message).toContain(String(PROTOCOL_VERSION + 1))
    const pulled = await request(server.app)
      .get('/api/sync/pull')
      .query({ deviceId: A, protocol: PROTOCOL_VERSION + 1 })
      .set(auth())
    expect(pulled.status).toBe(409)
    expect(errorOf(pulled.body).code).toBe('protocol_version')
    expect(await snapshot(server)).toEqual(before)
  })

  it.each([
    [{ protocol: PROTOCOL_VERSION }, 'deviceId'],
    [{ deviceId: A }, 'protocol'],
    [{ deviceId: A, protocol: PROTOCOL_VERSION, limit: 999_999 }, 'limit'],
    [{ deviceId: A, protocol: PROTOCOL_VERSION, since: -1 }, 'since'],
    [{ deviceId: 'short', protocol: PROTOCOL_VERSION }, 'deviceId'],
  ])('answers a bad pull query %j with 400 naming %s', async (query, field) => {
    const res = await request(server.app).get('/api/sync/pull').query(query).set(auth())
    expect(res.status).toBe(400)
    expect(errorOf(res.body)).toMatchObject({ code: 'invalid_request', field })
  })

  it('answers an oversized body with 413 payload_too_large saying the limit, storing nothing', async () => {
    const before = await snapshot(server)
    const big = createOp(1, R1, stamp(-1000, A), householdFields({ notes: '很长的备注'.repeat(1000) }))
    const res = await request(server.app)
      .post('/api/sync/push')
      .set(auth())
      .send(pushBody(A, [big]))
    expect(res.status).toBe(413)
    const error = errorOf(res.body)
    expect(error.code).toBe('payload_too_large')
    expect(error.message).toContain('4kb')
    expect(await snapshot(server)).toEqual(before)
  })

  it('answers an unknown /api route with a JSON 404', async () => {
    const res = await request(server.app).get('/api/nothing/here').set('Accept', 'text/html')
    expect(res.status).toBe(404)
    expect(res.type).toBe('application/json')
    expect(errorOf(res.body).code).toBe('not_found')
  })

  it('answers an unexpected failure with 500 internal and no stack trace', async () => {
    const failing = Object.create(server.store) as typeof server.store
    failing.listAreas = () => Promise.reject(new Error('disk on fire at /secret/path.ts:12'))
    const app = createApp({
      store: failing,
      config: server.config,
      now: () => T0,
      logger: pino({ level: 'silent' }),
    })
    const res = await request(app).get('/api/areas').set(auth())
    expect(res.status).toBe(500)
    expect(res.body).toEqual({ error: { code: 'internal', message: expect.any(String) } })
    expect(JSON.stringify(res.body)).not.toMatch(/secret|fire|at /)
  })
})

describe('auth', () => {
  it('refuses push and pull without a token, or with a bad or logged-out one (401 unauthorized)', async () => {
    const before = await snapshot(server)
    const attempts = [
      () =>
        request(server.app)
          .post('/api/sync/push')
          .send(pushBody(A, [goodOp()])),
      () => request(server.app).get('/api/sync/pull').query({ deviceId: A, protocol: PROTOCOL_VERSION }),
    ]
    for (const headers of [
      {},
      { Authorization: 'Bearer not-a-real-token-at-all' },
      { Authorization: token },
    ]) {
      for (const attempt of attempts) {
        const res = await attempt().set(headers)
        expect(res.status).toBe(401)
        expect(errorOf(res.body).code).toBe('unauthorized')
      }
    }
    const out = await request(server.app).post('/api/auth/logout').set(auth())
    expect(out.status).toBe(200)
    const res = await request(server.app)
      .post('/api/sync/push')
      .set(auth())
      .send(pushBody(A, [goodOp()]))
    expect(res.status).toBe(401)
    expect(await snapshot(server)).toEqual(before)
  })

  it('refuses a wrong password or an unknown user with 401 invalid_credentials', async () => {
    for (const [username, password] of [
      ['alice', 'wrong password'],
      ['nobody', PASSWORD],
    ]) {
      const res = await request(server.app).post('/api/auth/login').send({ username, password, deviceId: A })
      expect(res.status).toBe(401)
      expect(errorOf(res.body).code).toBe('invalid_credentials')
    }
  })

  it("logs in with the user and a token pair, storing only the tokens' hashes", async () => {
    const res = await request(server.app)
      .post('/api/auth/login')
      .send({ username: 'alice', password: PASSWORD, deviceId: A })
    expect(res.status).toBe(200)
    const body = loginResponseSchema.parse(res.body)
    expect(body.user).toEqual({
      id: expect.any(String),
      username: 'alice',
      displayName: '测试 alice',
      role: 'worker',
      areaIds: expect.arrayContaining([GRID_A]),
    })
    expect(body.accessExpiresAt).toBe(T0 + 15 * 60_000)
    expect(body.refreshExpiresAt).toBe(T0 + 30 * 24 * 60 * 60_000)
    for (const t of [body.accessToken, body.refreshToken])
      expect(Buffer.from(t, 'base64url')).toHaveLength(32)
    const db = server.store.kysely
    const stored = [
      ...(await db.selectFrom('access_tokens').select('token_hash').execute()),
      ...(await db.selectFrom('refresh_tokens').select('token_hash').execute()),
    ].map((r) => r.token_hash)
    expect(stored.length).toBeGreaterThanOrEqual(2)
    expect(stored.every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true)
    const dump = JSON.stringify(await db.selectFrom('sessions').selectAll().execute()) + stored.join()
    expect(dump).not.toContain(body.accessToken)
    expect(dump).not.toContain(body.refreshToken)

    const areas = await request(server.app)
      .get('/api/areas')
      .set('Authorization', `Bearer ${body.accessToken}`)
    expect(areas.status).toBe(200)
  })

  it('answers a malformed login with 400 naming the field', async () => {
    const res = await request(server.app)
      .post('/api/auth/login')
      .send({ username: 'alice', password: PASSWORD })
    expect(res.status).toBe(400)
    expect(errorOf(res.body)).toMatchObject({ code: 'invalid_request', field: 'deviceId' })
  })
})

describe('reference routes', () => {
  it('GET /api/health and /api/config need no login', async () => {
    const health = await request(server.app).get('/api/health')
    expect(health.body).toEqual({ ok: true, protocol: PROTOCOL_VERSION, time: T0 })
    const config = await request(server.app).get('/api/config')
    expect(config.body).toEqual({
      basemapUrl: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png',
      basemapAttribution: '© OpenStreetMap contributors',
      maxClockDriftMs: 300_000,
      deadlines: DEFAULT_DEADLINES,
      protocol: PROTOCOL_VERSION,
    })
    expect(health.headers['cache-control']).toBe('no-store')
  })

  it('GET /api/areas lists the tree with grid polygons', async () => {
    expect((await request(server.app).get('/api/areas')).status).toBe(401)
    const res = await request(server.app).get('/api/areas').set(auth())
    expect(res.status).toBe(200)
    const areas = res.body.areas as {
      id: string
      level: string
      parentId: string | null
      geometry: unknown
    }[]
    expect(areas.map((a) => a.level)).toEqual(['county', 'town', 'village', 'grid', 'grid'])
    const grid = areas.find((a) => a.id === GRID_A)!
    expect(Object.keys(grid).sort()).toEqual(['geometry', 'id', 'level', 'name', 'parentId'])
    expect(grid.geometry).toMatchObject({ type: 'Polygon' })
    expect(areas[0]!.geometry).toBeNull()
  })

  it('GET /api/records/:kind/:id validates its params and 404s an unknown or other-kind record', async () => {
    await request(server.app)
      .post('/api/sync/push')
      .set(auth())
      .send(pushBody(A, [goodOp()]))
    expect((await request(server.app).get(`/api/records/household/${R1}`).set(auth())).status).toBe(200)
    expect((await request(server.app).get(`/api/records/place/${R1}`).set(auth())).status).toBe(404)
    const bad = await request(server.app).get('/api/records/cow/not-a-uuid').set(auth())
    expect(bad.status).toBe(400)
    expect(errorOf(bad.body).field).toBe('kind')
    const noId = await request(server.app).get('/api/conflicts').set(auth())
    expect(errorOf(noId.body)).toMatchObject({ code: 'invalid_request', field: 'recordId' })
  })
})
