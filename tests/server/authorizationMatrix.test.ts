/**
 * The authorization matrix: every API endpoint × every role (and no login) × a target in and out of the caller's
 * scope, each answer asserted one by one. The first test lists the routes Express actually has and fails when one
 * is missing from the table (or the table names one that does not exist).
 *
 * Callers: worker over grid A, leader over A's village, handler over A's town, admin over A's town. "In scope" is a
 * target in grid A; "out of scope" one in grid D, in the other town. Each cell logs in afresh on its own device.
 */
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import sharp from 'sharp'
import request from 'supertest'
import type { Response } from 'supertest'
import { PROTOCOL_VERSION, pushResponseSchema } from '#shared/sync/protocol.ts'
import type { UserRole } from '#shared/schemas/api.ts'
import {
  COUNTY,
  GRID_A,
  GRID_D,
  PASSWORD,
  T0,
  TOWN,
  VILLAGE,
  VILLAGE_3,
  addUser,
  bearer,
  createOp,
  editOp,
  householdFields,
  login,
  loginSession,
  pushBody,
  square,
  stamp,
  startTestServer,
} from '../fixtures/serverHarness.ts'
import type { TestServer } from '../fixtures/serverHarness.ts'
import { registeredRoutes } from '../fixtures/routes.ts'

type Caller = UserRole | 'anonymous'
type Scope = 'in' | 'out'
const CALLERS: readonly Caller[] = ['anonymous', 'worker', 'leader', 'handler', 'admin']
const SCOPES: readonly Scope[] = ['in', 'out']

const AREAS_OF: Record<UserRole, string[]> = {
  worker: [GRID_A],
  leader: [VILLAGE],
  handler: [TOWN],
  admin: [TOWN],
}

const H = { in: '01900000-0000-7000-8000-00000000a001', out: '01900000-0000-7000-8000-00000000d001' }
const I = { in: '01900000-0000-7000-8000-00000000a002', out: '01900000-0000-7000-8000-00000000d002' }
const GRID = { in: GRID_A, out: GRID_D }
const VILLAGE_OF = { in: VILLAGE, out: VILLAGE_3 }
const TARGET_USER = { in: 'target_in', out: 'target_out' }
const TARGET_DEVICE = { in: 'device-target-in', out: 'device-target-out' }
/** Photo records (in grid A and grid D) and the sha256 of their uploaded bytes (set in beforeAll). */
const P = { in: '01900000-0000-7000-8000-00000000a003', out: '01900000-0000-7000-8000-00000000d003' }
const PHOTO_SHA = { in: '', out: '' }
const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex')
/** The losing write of the conflict seeded on each household (H) for the conflict review queue. */
const CONFLICT_LOSER = stamp(-400_000, 'device-root-0001')

interface Cell {
  caller: Caller
  scope: Scope
  /** The caller's fresh session (none for anonymous). */
  token: string | null
  refreshToken: string | null
  deviceId: string
  /** Unique per cell, for ids and stamps that must not collide. */
  n: number
}

interface Row {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH'
  /** The Express route path, exactly as registered. */
  route: string
  variant?: string
  send(cell: Cell): request.Test
  /** The observed answer: the status, plus what matters beyond it (a listed target, a per-op result). */
  observe?(res: Response, cell: Cell): string
  expect: Record<Caller, string | [string, string]>
}

let server: TestServer
const ids: Record<string, string> = {}
let counter = 0

const api = () => request(server.app)
const authed = (req: request.Test, cell: Cell) => (cell.token ? req.set(bearer(cell.token)) : req)
const status = (res: Response) => String(res.status)

/** `200:listed` when the in-scope (or out-of-scope) target appears in the list, `200:hidden` when not. */
const listed =
  (pick: (body: unknown) => readonly unknown[], matches: (item: unknown, cell: Cell) => boolean) =>
  (res: Response, cell: Cell) =>
    res.status === 200
      ? `200:${pick(res.body).some((item) => matches(item, cell)) ? 'listed' : 'hidden'}`
      : status(res)

const opResult = (res: Response) => {
  if (res.status !== 200) return status(res)
  const result = pushResponseSchema.parse(res.body).results[0]!
  return `200:${result.status === 'applied' ? 'applied' : result.code}`
}

const same = (v: string): [string, string] => [v, v]
const pub = (v: string) => ({ anonymous: v, worker: v, leader: v, handler: v, admin: v })
const adminOnly = (inScope: string, outScope: string): Row['expect'] => ({
  anonymous: '401',
  worker: '403',
  leader: '403',
  handler: '403',
  admin: [inScope, outScope],
})

const MATRIX: Row[] = [
  { method: 'GET', route: '/api/health', send: () => api().get('/api/health'), expect: pub('200') },
  { method: 'GET', route: '/api/config', send: () => api().get('/api/config'), expect: pub('200') },
  {
    method: 'POST',
    route: '/api/auth/login',
    send: (cell) =>
      api()
        .post('/api/auth/login')
        .send({
          username: cell.caller === 'anonymous' ? TARGET_USER.in : cell.caller,
          password: PASSWORD,
          deviceId: `device-login-${cell.n}`,
        }),
    expect: pub('200'),
  },
  {
    method: 'POST',
    route: '/api/auth/refresh',
    send: (cell) =>
      api()
        .post('/api/auth/refresh')
        .send({ refreshToken: cell.refreshToken ?? 'x'.repeat(43), deviceId: cell.deviceId }),
    expect: { ...pub('200'), anonymous: '401' },
  },
  {
    method: 'POST',
    route: '/api/auth/logout',
    send: (cell) => authed(api().post('/api/auth/logout'), cell),
    expect: pub('200'),
  },
  {
    method: 'GET',
    route: '/api/areas',
    send: (cell) => authed(api().get('/api/areas'), cell),
    observe: listed(
      (body) => (body as { areas: unknown[] }).areas,
      (item, cell) => (item as { id: string }).id === GRID[cell.scope],
    ),
    expect: {
      anonymous: '401',
      worker: ['200:listed', '200:hidden'],
      leader: ['200:listed', '200:hidden'],
      handler: ['200:listed', '200:hidden'],
      admin: ['200:listed', '200:hidden'],
    },
  },
  {
    method: 'GET',
    route: '/api/handlers',
    send: (cell) => authed(api().get('/api/handlers').query({ gridId: GRID[cell.scope] }), cell),
    observe: listed(
      (body) => (body as { handlers: unknown[] }).handlers,
      (item) => (item as { name: string }).name !== '',
    ),
    expect: {
      anonymous: '401',
      worker: same('403'),
      leader: ['200:listed', '404'],
      handler: same('403'),
      admin: ['200:listed', '404'],
    },
  },
  {
    method: 'POST',
    route: '/api/sync/push',
    variant: 'create a household',
    send: (cell) =>
      authed(api().post('/api/sync/push'), cell).send(
        pushBody(cell.deviceId, [
          createOp(
            1,
            `01900000-0000-7000-8000-${String(900_000 + cell.n).padStart(12, '0')}`,
            stamp(-100_000 + cell.n, cell.deviceId),
            householdFields({ gridId: GRID[cell.scope] }),
          ),
        ]),
      ),
    observe: opResult,
    expect: {
      anonymous: '401',
      worker: ['200:applied', '200:out_of_scope'],
      leader: ['200:applied', '200:out_of_scope'],
      handler: same('200:forbidden'),
      admin: ['200:applied', '200:out_of_scope'],
    },
  },
  {
    method: 'POST',
    route: '/api/sync/push',
    variant: 'edit an incident',
    send: (cell) =>
      authed(api().post('/api/sync/push'), cell).send(
        pushBody(cell.deviceId, [
          editOp(
            1,
            I[cell.scope],
            stamp(-100_000 + cell.n, cell.deviceId),
            { description: `第 ${cell.n} 次处理` },
            { description: null },
            'incident',
          ),
        ]),
      ),
    observe: opResult,
    expect: {
      anonymous: '401',
      worker: ['200:applied', '200:out_of_scope'],
      leader: ['200:applied', '200:out_of_scope'],
      // A handler only takes its own steps of the closed loop (see tests/server/workflow.test.ts), never edits the report.
      handler: ['200:forbidden', '200:out_of_scope'],
      admin: ['200:applied', '200:out_of_scope'],
    },
  },
  ...(['household', 'incident'] as const).map((kind): Row => ({
    method: 'GET',
    route: '/api/sync/pull',
    variant: `${kind} records`,
    send: (cell) =>
      authed(api().get('/api/sync/pull'), cell).query({
        deviceId: cell.deviceId,
        protocol: PROTOCOL_VERSION,
      }),
    observe: listed(
      (body) => (body as { records: unknown[] }).records,
      (item, cell) => (item as { id: string }).id === (kind === 'household' ? H : I)[cell.scope],
    ),
    expect: {
      anonymous: '401',
      worker: ['200:listed', '200:hidden'],
      leader: ['200:listed', '200:hidden'],
      handler: kind === 'household' ? same('200:hidden') : ['200:listed', '200:hidden'],
      admin: ['200:listed', '200:hidden'],
    },
  })),
  {
    method: 'POST',
    route: '/api/devices/wiped',
    send: (cell) => authed(api().post('/api/devices/wiped'), cell),
    expect: { ...pub('200'), anonymous: '401' },
  },
  ...(['household', 'incident'] as const).map((kind): Row => ({
    method: 'GET',
    route: '/api/records/:kind/:id',
    variant: kind,
    send: (cell) =>
      authed(api().get(`/api/records/${kind}/${(kind === 'household' ? H : I)[cell.scope]}`), cell),
    expect: {
      anonymous: '401',
      worker: ['200', '404'],
      leader: ['200', '404'],
      handler: kind === 'household' ? same('403') : ['200', '404'],
      admin: ['200', '404'],
    },
  })),
  ...(['household', 'incident'] as const).map((kind): Row => ({
    method: 'GET',
    route: '/api/records/:id/timeline',
    variant: kind,
    send: (cell) =>
      authed(api().get(`/api/records/${(kind === 'household' ? H : I)[cell.scope]}/timeline`), cell),
    expect: {
      anonymous: '401',
      worker: ['200', '404'],
      leader: ['200', '404'],
      handler: kind === 'household' ? same('403') : ['200', '404'],
      admin: ['200', '404'],
    },
  })),
  {
    method: 'POST',
    route: '/api/records/:kind/:id/unmask',
    send: (cell) =>
      authed(api().post(`/api/records/household/${H[cell.scope]}/unmask`), cell).send({ field: 'headPhone' }),
    expect: {
      anonymous: '401',
      worker: ['200', '404'],
      leader: ['200', '404'],
      handler: same('403'),
      admin: ['200', '404'],
    },
  },
  ...(['household', 'incident'] as const).map((kind): Row => ({
    method: 'GET',
    route: '/api/conflicts',
    variant: kind,
    send: (cell) =>
      authed(api().get('/api/conflicts'), cell).query({
        recordId: (kind === 'household' ? H : I)[cell.scope],
      }),
    expect: {
      anonymous: '401',
      worker: ['200', '404'],
      leader: ['200', '404'],
      handler: kind === 'household' ? same('403') : ['200', '404'],
      admin: ['200', '404'],
    },
  })),
  {
    method: 'GET',
    route: '/api/conflicts/queue',
    send: (cell) => authed(api().get('/api/conflicts/queue'), cell).query({ limit: 200 }),
    observe: listed(
      (body) => (body as { conflicts: unknown[] }).conflicts,
      (item, cell) => (item as { recordId: string }).recordId === H[cell.scope],
    ),
    expect: {
      anonymous: '401',
      worker: same('403'),
      leader: ['200:listed', '200:hidden'],
      handler: same('403'),
      admin: ['200:listed', '200:hidden'],
    },
  },
  {
    method: 'POST',
    route: '/api/conflicts/resolve',
    variant: 'keep (idempotent: every allowed cell gets the first decision)',
    send: (cell) =>
      authed(api().post('/api/conflicts/resolve'), cell).send({
        recordId: H[cell.scope],
        field: 'notes',
        loserStamp: CONFLICT_LOSER,
        decision: 'keep',
      }),
    expect: {
      anonymous: '401',
      worker: same('403'),
      leader: ['200', '404'],
      handler: same('403'),
      admin: ['200', '404'],
    },
  },
  {
    method: 'PUT',
    route: '/api/photos/:sha256',
    variant: 'a first chunk (uploads are not scoped: the bytes are readable only through photo records)',
    send: (cell) =>
      authed(api().put(`/api/photos/${sha256(`chunk ${cell.n}`)}`), cell)
        .query({ size: 10, offset: 0 })
        .set('Content-Type', 'application/octet-stream')
        .send(Buffer.from('01234')),
    expect: {
      anonymous: '401',
      worker: same('200'),
      leader: same('200'),
      handler: same('403'),
      admin: same('200'),
    },
  },
  {
    method: 'HEAD',
    route: '/api/photos/:sha256',
    send: (cell) => authed(api().head(`/api/photos/${PHOTO_SHA[cell.scope]}`), cell),
    expect: {
      anonymous: '401',
      worker: same('200'),
      leader: same('200'),
      handler: same('403'),
      admin: same('200'),
    },
  },
  ...(['', '/thumb'] as const).map((suffix): Row => ({
    method: 'GET',
    route: `/api/photos/:sha256${suffix}`,
    send: (cell) => authed(api().get(`/api/photos/${PHOTO_SHA[cell.scope]}${suffix}`), cell),
    expect: {
      anonymous: '401',
      worker: ['200', '404'],
      leader: ['200', '404'],
      handler: same('403'),
      admin: ['200', '404'],
    },
  })),
  {
    method: 'GET',
    route: '/api/admin/areas',
    send: (cell) => authed(api().get('/api/admin/areas'), cell),
    observe: listed(
      (body) => (body as { areas: unknown[] }).areas,
      (item, cell) => (item as { id: string }).id === GRID[cell.scope],
    ),
    expect: adminOnly('200:listed', '200:hidden'),
  },
  {
    method: 'POST',
    route: '/api/admin/areas',
    send: (cell) =>
      authed(api().post('/api/admin/areas'), cell).send({
        id: `${VILLAGE_OF[cell.scope]}${String(100 + cell.n).slice(-3)}`,
        level: 'grid',
        name: `新网格 ${cell.n}`,
        parentId: VILLAGE_OF[cell.scope],
        geometry: square(120 + cell.n * 0.02, 30.6),
      }),
    expect: adminOnly('201', '403'),
  },
  {
    method: 'PATCH',
    route: '/api/admin/areas/:id',
    send: (cell) =>
      authed(api().patch(`/api/admin/areas/${GRID[cell.scope]}`), cell).send({ name: `网格 ${cell.n}` }),
    expect: adminOnly('200', '403'),
  },
  {
    method: 'GET',
    route: '/api/admin/users',
    send: (cell) => authed(api().get('/api/admin/users'), cell),
    observe: listed(
      (body) => (body as { users: unknown[] }).users,
      (item, cell) => (item as { username: string }).username === TARGET_USER[cell.scope],
    ),
    expect: adminOnly('200:listed', '200:hidden'),
  },
  {
    method: 'POST',
    route: '/api/admin/users',
    send: (cell) =>
      authed(api().post('/api/admin/users'), cell).send({
        username: `new_user_${cell.n}`,
        displayName: '新用户',
        role: 'worker',
        areaIds: [GRID[cell.scope]],
        password: 'a long password',
      }),
    expect: adminOnly('201', '403'),
  },
  {
    method: 'PATCH',
    route: '/api/admin/users/:id',
    send: (cell) =>
      authed(api().patch(`/api/admin/users/${ids[TARGET_USER[cell.scope]]}`), cell).send({
        displayName: `改名 ${cell.n}`,
      }),
    expect: adminOnly('200', '403'),
  },
  {
    method: 'GET',
    route: '/api/admin/devices',
    send: (cell) => authed(api().get('/api/admin/devices'), cell),
    observe: listed(
      (body) => (body as { devices: unknown[] }).devices,
      (item, cell) => (item as { id: string }).id === TARGET_DEVICE[cell.scope],
    ),
    expect: adminOnly('200:listed', '200:hidden'),
  },
  {
    method: 'POST',
    route: '/api/admin/devices/:id/wipe',
    send: (cell) => authed(api().post(`/api/admin/devices/${TARGET_DEVICE[cell.scope]}/wipe`), cell),
    expect: adminOnly('200', '403'),
  },
  {
    method: 'GET',
    route: '/api/admin/audit',
    send: (cell) => authed(api().get('/api/admin/audit'), cell).query({ limit: 200 }),
    observe: listed(
      (body) => (body as { entries: unknown[] }).entries,
      (item, cell) => (item as { recordId: string }).recordId === H[cell.scope],
    ),
    expect: adminOnly('200:listed', '200:hidden'),
  },
]

beforeAll(async () => {
  server = await startTestServer()
  server.clock.now = T0
  await addUser(server, 'root', 'admin', [COUNTY])
  for (const role of ['worker', 'leader', 'handler', 'admin'] as const)
    await addUser(server, role, role, AREAS_OF[role])
  for (const scope of SCOPES) {
    const user = await addUser(server, TARGET_USER[scope], 'worker', [GRID[scope]])
    ids[TARGET_USER[scope]] = user.id
    await login(server, TARGET_USER[scope], TARGET_DEVICE[scope])
  }
  const rootDevice = 'device-root-0001'
  const root = await login(server, 'root', rootDevice)
  const s = stamp(-500_000, rootDevice)
  const seeded = await request(server.app)
    .post('/api/sync/push')
    .set(bearer(root))
    .send(
      pushBody(rootDevice, [
        ...SCOPES.map((scope, i) => createOp(i + 1, H[scope], s, householdFields({ gridId: GRID[scope] }))),
        ...SCOPES.map((scope, i) =>
          createOp(
            i + 3,
            I[scope],
            s,
            {
              gridId: GRID[scope],
              category: 'order',
              description: '夜间有陌生车辆多次出入',
              urgency: 'normal',
              status: 'reported',
              reportedAt: T0 - 60_000,
            },
            'incident',
          ),
        ),
      ]),
    )
  expect(pushResponseSchema.parse(seeded.body).results.every((r) => r.status === 'applied')).toBe(true)
  // A conflict on each household (two edits of `notes` from the same base) for the conflict review queue.
  const conflicted = await request(server.app)
    .post('/api/sync/push')
    .set(bearer(root))
    .send(
      pushBody(rootDevice, [
        ...SCOPES.map((scope, i) => editOp(20 + i, H[scope], CONFLICT_LOSER, { notes: '甲' }, { notes: s })),
        ...SCOPES.map((scope, i) =>
          editOp(22 + i, H[scope], stamp(-300_000, rootDevice), { notes: '乙' }, { notes: s }),
        ),
      ]),
    )
  expect(pushResponseSchema.parse(conflicted.body).results.every((r) => r.status === 'applied')).toBe(true)
  // A photo in each scope: its bytes uploaded, and a photo record pointing at them.
  for (const [i, scope] of SCOPES.entries()) {
    const bytes = await sharp({
      create: { width: 40, height: 30, channels: 3, background: { r: 200 * i, g: 100, b: 50 } },
    })
      .jpeg()
      .toBuffer()
    PHOTO_SHA[scope] = sha256(bytes)
    const uploaded = await request(server.app)
      .put(`/api/photos/${PHOTO_SHA[scope]}`)
      .query({ size: bytes.length, offset: 0 })
      .set(bearer(root))
      .set('Content-Type', 'application/octet-stream')
      .send(bytes)
    expect(uploaded.body).toEqual({ complete: true })
    const photo = {
      gridId: GRID[scope],
      ownerKind: 'household',
      ownerId: H[scope],
      sha256: PHOTO_SHA[scope],
      mime: 'image/jpeg',
      width: 40,
      height: 30,
      bytes: bytes.length,
      takenAt: T0 - 60_000,
    }
    const pushed = await request(server.app)
      .post('/api/sync/push')
      .set(bearer(root))
      .send(pushBody(rootDevice, [createOp(5 + i, P[scope], s, photo, 'photo')]))
    expect(pushResponseSchema.parse(pushed.body).results[0]!.status).toBe('applied')
  }
  // An audit row in each scope: the county admin unmasks both households.
  for (const scope of SCOPES) {
    const res = await request(server.app)
      .post(`/api/records/household/${H[scope]}/unmask`)
      .set(bearer(root))
      .send({ field: 'headPhone' })
    expect(res.status).toBe(200)
  }
})
afterAll(() => server.close())

describe('authorization matrix', () => {
  it('covers every registered /api route, and names none that does not exist', () => {
    const registered = registeredRoutes(server.app)
    const table = [...new Set(MATRIX.map((row) => `${row.method} ${row.route}`))].sort()
    expect(registered.length).toBeGreaterThan(15)
    expect(table).toEqual(registered)
  })

  for (const row of MATRIX) {
    describe(`${row.method} ${row.route}${row.variant ? ` (${row.variant})` : ''}`, () => {
      for (const caller of CALLERS) {
        for (const [i, scope] of SCOPES.entries()) {
          const spec = row.expect[caller]
          const expected = typeof spec === 'string' ? spec : spec[i]!
          it(`${caller}, target ${scope} of scope → ${expected}`, async () => {
            const n = ++counter
            const deviceId = `device-${caller}-${n}`
            const session = caller === 'anonymous' ? null : await loginSession(server, caller, deviceId)
            const cell: Cell = {
              caller,
              scope,
              token: session?.accessToken ?? null,
              refreshToken: session?.refreshToken ?? null,
              deviceId,
              n,
            }
            const res = await row.send(cell)
            expect((row.observe ?? status)(res, cell), JSON.stringify(res.body)).toBe(expected)
          })
        }
      }
    })
  }
})
