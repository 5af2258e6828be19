/**
 * GET /api/handlers?gridId=…: whom a leader may dispatch a grid's incident to (enabled handler accounts covering the
 * grid), and the deadlines the devices read from /api/config.
 */
import { afterEach, describe, expect, it } from 'vitest'
import request from 'supertest'
import { handlersResponseSchema, appConfigSchema } from '#shared/schemas/api.ts'
import {
  COUNTY,
  GRID_A,
  GRID_C,
  GRID_D,
  TOWN,
  TOWN_2,
  VILLAGE,
  VILLAGE_2,
  addUser,
  bearer,
  login,
  startTestServer,
} from '../fixtures/serverHarness.ts'
import type { TestServer } from '../fixtures/serverHarness.ts'

let server: TestServer | null = null
afterEach(() => server?.close())

const handlersOf = async (token: string, gridId: string) => {
  const res = await request(server!.app).get('/api/handlers').query({ gridId }).set(bearer(token))
  return res.status === 200 ? handlersResponseSchema.parse(res.body).handlers.map((h) => h.name) : res.status
}

describe('GET /api/handlers', () => {
  it('lists the enabled handlers whose areas cover the grid, by name', async () => {
    server = await startTestServer()
    await addUser(server, 'leader', 'leader', [TOWN])
    await addUser(server, 'h_village', 'handler', [VILLAGE])
    await addUser(server, 'h_town', 'handler', [TOWN])
    await addUser(server, 'h_county', 'handler', [COUNTY])
    await addUser(server, 'h_grid_c', 'handler', [GRID_C])
    await addUser(server, 'h_other_town', 'handler', [TOWN_2])
    const gone = await addUser(server, 'h_disabled', 'handler', [VILLAGE])
    await server.store.updateUser(gone.id, { disabled: true })
    await addUser(server, 'w_village', 'worker', [VILLAGE])
    const token = await login(server, 'leader', 'device-leader')

    expect(await handlersOf(token, GRID_A)).toEqual(['测试 h_county', '测试 h_town', '测试 h_village'])
    expect(await handlersOf(token, GRID_C)).toEqual(['测试 h_county', '测试 h_grid_c', '测试 h_town'])
    // Out of the leader's town: not found, like records they cannot see.
    expect(await handlersOf(token, GRID_D)).toBe(404)
    // Not a grid at all.
    expect(await handlersOf(token, VILLAGE_2)).toBe(400)
  })

  it('answers leaders and admins only', async () => {
    server = await startTestServer()
    await addUser(server, 'worker', 'worker', [GRID_A])
    await addUser(server, 'handler', 'handler', [TOWN])
    await addUser(server, 'admin', 'admin', [COUNTY])
    expect(await handlersOf(await login(server, 'worker', 'device-worker'), GRID_A)).toBe(403)
    expect(await handlersOf(await login(server, 'handler', 'device-handler'), GRID_A)).toBe(403)
    expect(await handlersOf(await login(server, 'admin', 'device-admin'), GRID_A)).toEqual(['测试 handler'])
    const anonymous = await request(server.app).get('/api/handlers').query({ gridId: GRID_A })
    expect(anonymous.status).toBe(401)
  })
})

describe('deadline configuration', () => {
  it('sends the configured deadlines to devices in /api/config', async () => {
    server = await startTestServer({
      env: { INCIDENT_DEADLINE_DAYS: 'urgent=0.5,normal=2,complex=5,max=10' },
    })
    const res = await request(server.app).get('/api/config')
    expect(appConfigSchema.parse(res.body).deadlines).toEqual({ urgent: 0.5, normal: 2, complex: 5, max: 10 })
  })

  it('sends the defaults when none is configured', async () => {
    server = await startTestServer()
    const res = await request(server.app).get('/api/config')
    expect(appConfigSchema.parse(res.body).deadlines).toEqual({ urgent: 1, normal: 3, complex: 7, max: 15 })
  })
})
