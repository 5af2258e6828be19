import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createPinia, disposePinia, setActivePinia } from 'pinia'
import type { Pinia } from 'pinia'
import { v7 } from 'uuid'
import { GridPatrolDb } from '../../src/db/GridPatrolDb.ts'
import { createAdminApi } from '../../src/sync/adminApi.ts'
import { createApiClient } from '../../src/sync/apiClient.ts'
import { createHttpTransport } from '../../src/sync/httpTransport.ts'
import { resetServices, sessionTokenStore, setServices } from '../../src/stores/services.ts'
import { AdminError, useAdminStore } from '../../src/stores/useAdminStore.ts'
import { useSessionStore } from '../../src/stores/useSessionStore.ts'
import { GRID, T0, freshDbName } from './testDevice.ts'

type Handler = (method: string, url: URL, body: unknown) => Response | Promise<Response>

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
const failure = (status: number, code: string, message: string, field?: string) =>
  json(status, { error: { code, message, ...(field ? { field } : {}) } })

const ADMIN = { id: 1, username: 'admin', displayName: '管理员', role: 'admin', areaIds: ['330523'] }
const USER = {
  id: 7,
  username: 'worker9',
  displayName: '赵网格员',
  role: 'worker',
  areaIds: [GRID],
  disabled: false,
  createdAt: T0,
}
const square = {
  type: 'Polygon' as const,
  coordinates: [
    [
      [119.6, 30.6],
      [119.61, 30.6],
      [119.61, 30.61],
      [119.6, 30.6],
    ],
  ],
}

let db: GridPatrolDb
let pinia: Pinia
let handle: Handler
let calls: { method: string; path: string; body: unknown }[]

beforeEach(async () => {
  db = new GridPatrolDb(freshDbName())
  calls = []
  handle = () => failure(404, 'not_found', 'no route')
  const fetch = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://device.test')
    const method = init.method ?? 'GET'
    const body: unknown = init.body ? JSON.parse(String(init.body)) : undefined
    calls.push({ method, path: url.pathname + url.search, body })
    return handle(method, url, body)
  }) as typeof globalThis.fetch
  const newId = () => v7()
  const client = createApiClient({ session: sessionTokenStore(() => db, newId), fetch })
  setServices({
    db,
    transport: createHttpTransport(client),
    admin: createAdminApi(client),
    now: () => T0,
    random: () => 0.5,
    newId,
    isOnline: () => false, // no background sync or area loads in these tests
  })
  await db.setMeta('session', {
    accessToken: 'admin-access',
    accessExpiresAt: T0 + 1,
    refreshToken: '',
    refreshExpiresAt: T0 + 2,
    user: { ...ADMIN, id: '1', role: 'admin' },
  })
  pinia = createPinia()
  setActivePinia(pinia)
})

afterEach(async () => {
  disposePinia(pinia)
  resetServices()
  await db.delete()
})

describe('useAdminStore', () => {
  it('a refusal naming a field surfaces as { code, message, field } and stays in `error`', async () => {
    handle = () => failure(400, 'overlapping_grid', '与“横山村第二网格”重叠', 'geometry')
    const admin = useAdminStore()
    const error = await admin
      .createArea({
        id: '330523101001009',
        level: 'grid',
        name: '新网格',
        parentId: '330523101001',
        geometry: square,
      })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AdminError)
    expect(error).toMatchObject({
      code: 'overlapping_grid',
      message: '与“横山村第二网格”重叠',
      field: 'geometry',
    })
    expect(admin.error).toBe(error)
    expect(admin.areas).toEqual([])
    expect(calls[0]).toMatchObject({ method: 'POST', path: '/api/admin/areas' })
  })

  it('maps a 403, a network failure, a 5xx and an unreadable answer to codes with Chinese messages', async () => {
    const admin = useAdminStore()
    const cases: [Handler, object][] = [
      [
        () => failure(403, 'forbidden', '只能管理您辖区内的用户'),
        { code: 'forbidden', message: '只能管理您辖区内的用户' },
      ],
      [
        () => Promise.reject(new TypeError('Failed to fetch')),
        { code: 'offline', message: '无法连接服务器，请检查网络后再试' },
      ],
      [() => failure(500, 'internal', 'boom'), { code: 'server', message: '服务器暂时不可用，请稍后再试' }],
      [() => json(200, { users: [{ id: 1 }] }), { code: 'server' }],
    ]
    for (const [respond, expected] of cases) {
      handle = respond
      await expect(admin.loadUsers()).rejects.toMatchObject(expected)
    }
  })

  it('a session the server no longer accepts asks for the password', async () => {
    handle = () => failure(401, 'unauthorized', '登录已失效')
    const admin = useAdminStore()
    await expect(admin.loadDevices()).rejects.toMatchObject({ code: 'unauthorized' })
    const session = useSessionStore()
    await session.ready
    expect(session.needsReauth).toBe(true)
    expect(session.isLoggedIn).toBe(true)
  })

  it('users: list, create and update keep the list current', async () => {
    const admin = useAdminStore()
    handle = () => json(200, { users: [USER] })
    await admin.loadUsers()
    expect(admin.users).toEqual([{ ...USER, id: '7' }])

    handle = (_method, _url, body) =>
      json(201, { user: { ...USER, ...(body as object), id: 8, disabled: false, createdAt: T0 } })
    const created = await admin.createUser({
      username: 'worker10',
      displayName: '钱网格员',
      role: 'worker',
      areaIds: [GRID],
      password: 'long-enough-1',
    })
    expect(created.id).toBe('8')
    handle = () => json(200, { user: { ...USER, disabled: true } })
    await admin.updateUser('7', { disabled: true })
    expect(admin.users.map((u) => [u.id, u.disabled])).toEqual([
      ['7', true],
      ['8', false],
    ])
    expect(calls.at(-1)).toMatchObject({
      method: 'PATCH',
      path: '/api/admin/users/7',
      body: { disabled: true },
    })
  })

  it('areas: an update answers how many records moved; devices: wipe', async () => {
    const admin = useAdminStore()
    const area = {
      id: GRID,
      level: 'grid',
      name: '横山村第一网格',
      parentId: '330523101002',
      geometry: square,
    }
    handle = () => json(200, { area, movedRecords: 42 })
    expect(await admin.updateArea(GRID, { parentId: '330523101002' })).toMatchObject({ movedRecords: 42 })
    expect(admin.areas).toEqual([area])

    const device = {
      id: 'device0001',
      userId: 7,
      username: 'worker9',
      displayName: '赵网格员',
      lastSeenAt: T0,
      wipeRequestedAt: T0 + 5,
      wipedAt: null,
    }
    handle = () => json(200, { device })
    expect(await admin.wipeDevice('device0001')).toMatchObject({ userId: '7', wipeRequestedAt: T0 + 5 })
    expect(calls.at(-1)).toMatchObject({ method: 'POST', path: '/api/admin/devices/device0001/wipe' })
  })

  it('audit: pages newest first, each asking before the previous page, until there is no next', async () => {
    const entry = (id: number) => ({
      id,
      at: T0 - id,
      userId: 2,
      username: 'leader1',
      deviceId: 'device0001',
      action: 'unmask',
      recordKind: 'household',
      recordId: v7(),
      field: 'headPhone',
      detail: null,
    })
    handle = (_method, url) => {
      const before = url.searchParams.get('before')
      return before === null
        ? json(200, { entries: [entry(1), entry(2)], next: 2 })
        : json(200, { entries: [entry(3)], next: null })
    }
    const admin = useAdminStore()
    await admin.loadAudit(2)
    expect(admin.auditComplete).toBe(false)
    await admin.loadMoreAudit(2)
    expect(admin.audit.map((e) => e.id)).toEqual(['1', '2', '3'])
    expect(admin.auditComplete).toBe(true)
    expect(calls.map((c) => c.path)).toEqual([
      '/api/admin/audit?limit=2',
      '/api/admin/audit?limit=2&before=2',
    ])
    expect(await admin.loadMoreAudit()).toEqual([])
    expect(calls).toHaveLength(2)
  })
})
