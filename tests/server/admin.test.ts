import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import request from 'supertest'
import {
  adminAreaResponseSchema,
  adminAreasResponseSchema,
  adminAreaUpdateResponseSchema,
  adminDevicesResponseSchema,
  adminUserResponseSchema,
  adminUsersResponseSchema,
  auditPageSchema,
} from '#shared/schemas/admin.ts'
import { apiErrorSchema } from '#shared/sync/protocol.ts'
import {
  COUNTY,
  GRID_A,
  GRID_B,
  GRID_C,
  GRID_D,
  TOWN,
  TOWN_2,
  VILLAGE,
  VILLAGE_2,
  VILLAGE_3,
  addUser,
  bearer,
  login,
  square,
  startTestServer,
} from '../fixtures/serverHarness.ts'
import type { TestServer } from '../fixtures/serverHarness.ts'

const ADMIN_DEVICE = 'device-admin-01'
let server: TestServer
let token: string

beforeEach(async () => {
  server = await startTestServer()
  await addUser(server, 'root', 'admin', [COUNTY])
  token = await login(server, 'root', ADMIN_DEVICE)
})
afterEach(() => server.close())

const errorOf = (body: unknown) => apiErrorSchema.parse(body).error
const as = (t: string) => ({
  get: (path: string) => request(server.app).get(path).set(bearer(t)),
  post: (path: string, body: object) => request(server.app).post(path).set(bearer(t)).send(body),
  patch: (path: string, body: object) => request(server.app).patch(path).set(bearer(t)).send(body),
})
const admin = () => as(token)
const newGrid = (overrides: object = {}) => ({
  id: `${VILLAGE}003`,
  level: 'grid',
  name: '余村第三网格',
  parentId: VILLAGE,
  geometry: square(119.66, 30.6),
  ...overrides,
})
const ring = (...points: [number, number][]) => ({ type: 'Polygon', coordinates: [points] })

describe('areas', () => {
  it('lists the tree under the admin, with grid polygons', async () => {
    const res = await admin().get('/api/admin/areas')
    expect(res.status).toBe(200)
    const { areas } = adminAreasResponseSchema.parse(res.body)
    expect(areas.map((a) => a.id)).toEqual([
      COUNTY,
      TOWN,
      VILLAGE,
      GRID_A,
      GRID_B,
      VILLAGE_2,
      GRID_C,
      TOWN_2,
      VILLAGE_3,
      GRID_D,
    ])
    expect(areas.find((a) => a.id === GRID_A)!.geometry).toMatchObject({ type: 'Polygon' })
  })

  it('creates a grid under a village (id = parent + 3 digits), audited, visible to its users', async () => {
    const res = await admin().post('/api/admin/areas', newGrid())
    expect(res.status).toBe(201)
    expect(adminAreaResponseSchema.parse(res.body).area).toEqual({
      id: `${VILLAGE}003`,
      level: 'grid',
      name: '余村第三网格',
      parentId: VILLAGE,
      geometry: square(119.66, 30.6),
    })
    expect((await server.store.scopeOfGrid(`${VILLAGE}003`))!.countyId).toBe(COUNTY)
    const town = await admin().post('/api/admin/areas', {
      id: `${COUNTY}301`,
      level: 'town',
      name: '杭垓镇',
      parentId: COUNTY,
    })
    expect(town.status).toBe(201)
    const audit = auditPageSchema.parse((await admin().get('/api/admin/audit')).body)
    expect(audit.entries.map((e) => [e.action, e.recordKind, e.recordId])).toEqual([
      ['area_created', 'area', `${COUNTY}301`],
      ['area_created', 'area', `${VILLAGE}003`],
    ])
  })

  it.each([
    [
      'an id that is not the parent code + 3 digits',
      { id: `${VILLAGE_2}003` },
      'invalid_request',
      'id',
      /上级编码/,
    ],
    ['an id ending in 000', { id: `${VILLAGE}000` }, 'invalid_request', 'id', /001–999/],
    ['a level that is not the next one down', { level: 'village' }, 'invalid_request', 'level', /网格/],
    [
      'an unknown parent',
      { parentId: `${TOWN}009`, id: `${TOWN}009001` },
      'invalid_request',
      'parentId',
      /不存在/,
    ],
    ['a taken id', { id: GRID_A }, 'area_exists', 'id', /余村第一网格/],
    ['no polygon for a grid', { geometry: undefined }, 'invalid_geometry', 'geometry', /边界/],
    [
      'a Point instead of a Polygon',
      { geometry: { type: 'Point', coordinates: [119.6, 30.6] } },
      'invalid_geometry',
      'geometry',
      /Polygon/,
    ],
    [
      'an open ring',
      { geometry: ring([119.66, 30.6], [119.67, 30.6], [119.67, 30.61], [119.66, 30.61]) },
      'invalid_geometry',
      'geometry',
      /闭合/,
    ],
    [
      'a ring of 3 positions',
      { geometry: ring([119.66, 30.6], [119.67, 30.6], [119.66, 30.6]) },
      'invalid_geometry',
      'geometry',
      /4 个坐标/,
    ],
    [
      'a latitude out of range',
      { geometry: ring([119.66, 30.6], [119.67, 95], [119.67, 30.61], [119.66, 30.6]) },
      'invalid_geometry',
      'geometry',
      /纬度 95/,
    ],
    [
      'a longitude out of range',
      { geometry: ring([181, 30.6], [119.67, 30.6], [119.67, 30.61], [181, 30.6]) },
      'invalid_geometry',
      'geometry',
      /经度 181/,
    ],
    [
      'a self-intersecting bow tie',
      { geometry: ring([119.66, 30.6], [119.67, 30.61], [119.67, 30.6], [119.66, 30.61], [119.66, 30.6]) },
      'invalid_geometry',
      'geometry',
      /自相交/,
    ],
    [
      'a polygon on a town',
      { id: `${COUNTY}301`, level: 'town', parentId: COUNTY },
      'invalid_geometry',
      'geometry',
      /只有网格/,
    ],
  ])('refuses %s with 400 naming the field', async (_, overrides, code, field, message) => {
    const res = await admin().post('/api/admin/areas', newGrid(overrides))
    expect(res.status).toBe(code === 'area_exists' ? 409 : 400)
    const error = errorOf(res.body)
    expect(error).toMatchObject({ code, field })
    expect(error.message).toMatch(message)
    expect(await server.store.areasVersion()).toBe(0)
  })

  it('refuses a grid that overlaps another, naming it; a grid that only touches an edge is fine', async () => {
    // GRID_A is the square [119.60, 119.61] × [30.60, 30.61].
    const overlapping = await admin().post('/api/admin/areas', newGrid({ geometry: square(119.605, 30.605) }))
    expect(overlapping.status).toBe(400)
    expect(errorOf(overlapping.body)).toMatchObject({ code: 'overlapping_grid', field: 'geometry' })
    expect(errorOf(overlapping.body).message).toContain(`余村第一网格（${GRID_A}）`)
    const touching = await admin().post('/api/admin/areas', newGrid({ geometry: square(119.61, 30.61) }))
    expect(touching.status).toBe(201)
    const sharedEdge = await admin().post(
      '/api/admin/areas',
      newGrid({ id: `${VILLAGE}004`, name: '余村第四网格', geometry: square(119.6, 30.61) }),
    )
    expect(sharedEdge.status).toBe(201)
  })

  it('renames and reshapes a grid (its own old shape does not count as an overlap), refuses an overlapping new shape', async () => {
    const res = await admin().patch(`/api/admin/areas/${GRID_A}`, {
      name: '余村一组',
      geometry: square(119.6, 30.6, 0.012),
    })
    expect(res.status).toBe(200)
    expect(adminAreaUpdateResponseSchema.parse(res.body)).toMatchObject({
      area: { name: '余村一组', parentId: VILLAGE },
      movedRecords: 0,
    })
    const overlap = await admin().patch(`/api/admin/areas/${GRID_A}`, { geometry: square(119.615, 30.6) })
    expect(errorOf(overlap.body).code).toBe('overlapping_grid')
    expect(errorOf(overlap.body).message).toContain('余村第二网格')
    expect((await server.store.getArea(GRID_A))!.name).toBe('余村一组')
  })

  it('moves only grids, only to villages', async () => {
    expect(
      errorOf((await admin().patch(`/api/admin/areas/${VILLAGE}`, { parentId: TOWN_2 })).body).field,
    ).toBe('parentId')
    expect(errorOf((await admin().patch(`/api/admin/areas/${GRID_A}`, { parentId: TOWN })).body).field).toBe(
      'parentId',
    )
    expect((await admin().patch(`/api/admin/areas/${GRID_A}`, { parentId: VILLAGE_3 })).status).toBe(200)
    expect((await server.store.scopeOfGrid(GRID_A))!.townId).toBe(TOWN_2)
    const audit = auditPageSchema.parse((await admin().get('/api/admin/audit')).body)
    expect(audit.entries[0]).toMatchObject({
      action: 'grid_moved',
      recordId: GRID_A,
      detail: { from: VILLAGE, to: VILLAGE_3, movedRecords: 0 },
    })
  })

  it('lets an admin act only under their own areas', async () => {
    await addUser(server, 'town_admin', 'admin', [TOWN])
    const townAdmin = as(await login(server, 'town_admin', 'device-admin-02'))
    const { areas } = adminAreasResponseSchema.parse((await townAdmin.get('/api/admin/areas')).body)
    expect(areas.map((a) => a.id)).toEqual([TOWN, VILLAGE, GRID_A, GRID_B, VILLAGE_2, GRID_C])
    expect(
      (await townAdmin.post('/api/admin/areas', newGrid({ id: `${VILLAGE_3}002`, parentId: VILLAGE_3 })))
        .status,
    ).toBe(403)
    expect(
      (
        await townAdmin.post('/api/admin/areas', {
          id: `${COUNTY}301`,
          level: 'town',
          name: '杭垓镇',
          parentId: COUNTY,
        })
      ).status,
    ).toBe(403)
    expect((await townAdmin.patch(`/api/admin/areas/${GRID_D}`, { name: '越权' })).status).toBe(403)
    expect((await townAdmin.patch(`/api/admin/areas/${GRID_A}`, { parentId: VILLAGE_3 })).status).toBe(403)
    expect((await townAdmin.patch(`/api/admin/areas/${GRID_A}`, { parentId: VILLAGE_2 })).status).toBe(200)
  })
})

describe('users', () => {
  const newUser = (overrides: object = {}) => ({
    username: 'worker9',
    displayName: '网格员 小王',
    role: 'worker',
    areaIds: [GRID_A],
    password: 'long enough 密码',
    ...overrides,
  })

  it('creates a user who can log in; lists users with their assignments', async () => {
    const res = await admin().post('/api/admin/users', newUser())
    expect(res.status).toBe(201)
    const { user } = adminUserResponseSchema.parse(res.body)
    expect(user).toMatchObject({ username: 'worker9', role: 'worker', areaIds: [GRID_A], disabled: false })
    expect(JSON.stringify(res.body)).not.toMatch(/password|argon/i)
    const login = await request(server.app)
      .post('/api/auth/login')
      .send({ username: 'worker9', password: 'long enough 密码', deviceId: 'device-w9-0001' })
    expect(login.status).toBe(200)
    expect(login.body.user.areaIds).toEqual([GRID_A])
    const { users } = adminUsersResponseSchema.parse((await admin().get('/api/admin/users')).body)
    expect(users.map((u) => u.username)).toEqual(['root', 'worker9'])
  })

  it('refuses a taken username (409), a short password and no areas (400 naming the field)', async () => {
    expect((await admin().post('/api/admin/users', newUser())).status).toBe(201)
    const taken = await admin().post('/api/admin/users', newUser({ displayName: '另一个' }))
    expect(taken.status).toBe(409)
    expect(errorOf(taken.body)).toMatchObject({ code: 'username_taken', field: 'username' })
    const short = await admin().post('/api/admin/users', newUser({ username: 'w10', password: 'short' }))
    expect(short.status).toBe(400)
    expect(errorOf(short.body)).toMatchObject({ code: 'invalid_request', field: 'password' })
    const none = await admin().post('/api/admin/users', newUser({ username: 'w11', areaIds: [] }))
    expect(errorOf(none.body)).toMatchObject({ code: 'invalid_request', field: 'areaIds' })
    const unknown = await admin().post(
      '/api/admin/users',
      newUser({ username: 'w12', areaIds: ['330523999'] }),
    )
    expect(errorOf(unknown.body)).toMatchObject({ code: 'invalid_request', field: 'areaIds' })
  })

  it("updates role, areas, name and password; a new password ends the user's sessions; all audited without the password", async () => {
    const { user } = adminUserResponseSchema.parse((await admin().post('/api/admin/users', newUser())).body)
    const workerToken = await request(server.app)
      .post('/api/auth/login')
      .send({ username: 'worker9', password: 'long enough 密码', deviceId: 'device-w9-0001' })
    const res = await admin().patch(`/api/admin/users/${user.id}`, {
      role: 'leader',
      areaIds: [VILLAGE, VILLAGE_2],
      displayName: '网格长 小王',
      password: 'another long one',
    })
    expect(res.status).toBe(200)
    expect(adminUserResponseSchema.parse(res.body).user).toMatchObject({
      role: 'leader',
      areaIds: [VILLAGE, VILLAGE_2],
      displayName: '网格长 小王',
    })
    const old = await request(server.app)
      .get('/api/areas')
      .set(bearer(workerToken.body.accessToken as string))
    expect(old.status).toBe(401)
    const relogin = await request(server.app)
      .post('/api/auth/login')
      .send({ username: 'worker9', password: 'another long one', deviceId: 'device-w9-0001' })
    expect(relogin.body.user).toMatchObject({ role: 'leader', areaIds: [VILLAGE, VILLAGE_2] })
    const audit = auditPageSchema.parse((await admin().get('/api/admin/audit')).body)
    expect(audit.entries[0]).toMatchObject({
      action: 'user_updated',
      recordKind: 'user',
      recordId: user.id,
      username: 'root',
      deviceId: ADMIN_DEVICE,
      detail: { username: 'worker9', role: 'leader', areaIds: [VILLAGE, VILLAGE_2] },
    })
    expect(JSON.stringify(audit)).not.toContain('another long one')
  })

  it('keeps an admin from disabling or demoting themselves, and town admins to their town', async () => {
    const rootId = (await server.store.findUserByUsername('root'))!.id
    expect(errorOf((await admin().patch(`/api/admin/users/${rootId}`, { disabled: true })).body).field).toBe(
      'disabled',
    )
    expect(errorOf((await admin().patch(`/api/admin/users/${rootId}`, { role: 'worker' })).body).field).toBe(
      'role',
    )
    await addUser(server, 'town_admin', 'admin', [TOWN])
    await addUser(server, 'far_worker', 'worker', [GRID_D])
    await addUser(server, 'near_worker', 'worker', [GRID_B])
    const townAdmin = as(await login(server, 'town_admin', 'device-admin-02'))
    const { users } = adminUsersResponseSchema.parse((await townAdmin.get('/api/admin/users')).body)
    expect(users.map((u) => u.username)).toEqual(['near_worker', 'town_admin'])
    const far = (await server.store.findUserByUsername('far_worker'))!.id
    const near = (await server.store.findUserByUsername('near_worker'))!.id
    expect((await townAdmin.patch(`/api/admin/users/${far}`, { displayName: 'x' })).status).toBe(403)
    expect((await townAdmin.patch(`/api/admin/users/${near}`, { areaIds: [GRID_D] })).status).toBe(403)
    expect((await townAdmin.patch(`/api/admin/users/${near}`, { areaIds: [GRID_C] })).status).toBe(200)
    expect((await townAdmin.post('/api/admin/users', newUser({ areaIds: [COUNTY] }))).status).toBe(403)
  })
})

describe('devices and audit', () => {
  it('lists devices with their users and when they were last seen', async () => {
    await addUser(server, 'worker', 'worker', [GRID_A])
    server.clock.now += 5000
    await login(server, 'worker', 'device-worker-1')
    const { devices } = adminDevicesResponseSchema.parse((await admin().get('/api/admin/devices')).body)
    expect(devices).toEqual([
      {
        id: 'device-worker-1',
        userId: expect.any(String),
        username: 'worker',
        displayName: '测试 worker',
        lastSeenAt: server.clock.now,
        wipeRequestedAt: null,
        wipedAt: null,
      },
      expect.objectContaining({ id: ADMIN_DEVICE, username: 'root' }),
    ])
  })

  it('pages the audit log newest first with `next`, and shows a town admin only their town', async () => {
    await addUser(server, 'town_admin', 'admin', [TOWN])
    for (const [i, parent] of [VILLAGE, VILLAGE, VILLAGE_3].entries()) {
      server.clock.now += 1000
      const res = await admin().post('/api/admin/areas', {
        id: `${parent}00${i + 5}`,
        level: 'grid',
        name: `新网格${i}`,
        parentId: parent,
        geometry: square(119.8 + i * 0.02, 30.6),
      })
      expect(res.status).toBe(201)
    }
    const first = auditPageSchema.parse((await admin().get('/api/admin/audit?limit=2')).body)
    expect(first.entries.map((e) => e.recordId)).toEqual([`${VILLAGE_3}007`, `${VILLAGE}006`])
    expect(first.next).not.toBeNull()
    const second = auditPageSchema.parse(
      (await admin().get(`/api/admin/audit?limit=2&before=${first.next}`)).body,
    )
    expect(second.entries.map((e) => e.recordId)).toEqual([`${VILLAGE}005`])
    expect(second.next).toBeNull()
    const townAdmin = as(await login(server, 'town_admin', 'device-admin-02'))
    const town = auditPageSchema.parse((await townAdmin.get('/api/admin/audit')).body)
    expect(town.entries.map((e) => e.recordId)).toEqual([`${VILLAGE}006`, `${VILLAGE}005`])
    expect((await admin().get('/api/admin/audit?limit=0')).status).toBe(400)
  })

  it('never answers an admin route to other roles', async () => {
    await addUser(server, 'leader', 'leader', [COUNTY])
    const leader = as(await login(server, 'leader', 'device-leader-1'))
    for (const path of ['/api/admin/areas', '/api/admin/users', '/api/admin/devices', '/api/admin/audit']) {
      const res = await leader.get(path)
      expect(res.status, path).toBe(403)
      expect(errorOf(res.body).code).toBe('forbidden')
    }
  })
})
