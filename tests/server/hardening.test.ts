import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import request from 'supertest'
import { apiErrorSchema } from '#shared/sync/protocol.ts'
import { basemapSource, cspDirectives } from '../../server/http/securityHeaders.ts'
import { COUNTY, PASSWORD, addUser, bearer, login, startTestServer } from '../fixtures/serverHarness.ts'
import type { TestServer } from '../fixtures/serverHarness.ts'

let server: TestServer

beforeEach(async () => {
  server = await startTestServer()
  await addUser(server, 'alice')
})
afterEach(() => server.close())

const cspOf = (res: request.Response) =>
  new Map(
    String(res.headers['content-security-policy'])
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name, ...sources]) => [name!, sources]),
  )

describe('security headers', () => {
  it.each(['/api/health', '/api/nothing', '/index.html'])(
    'sends a strict CSP without unsafe-inline on %s',
    async (path) => {
      const res = await request(server.app).get(path)
      const header = String(res.headers['content-security-policy'])
      expect(header).not.toMatch(/unsafe-inline|unsafe-eval/)
      const csp = cspOf(res)
      expect(csp.get('default-src')).toEqual(["'self'"])
      expect(csp.get('script-src')).toEqual(["'self'"])
      expect(csp.get('style-src')).toEqual(["'self'"])
      expect(csp.get('img-src')).toEqual(["'self'", 'data:', 'blob:', 'https://tile.openstreetmap.org'])
      expect(csp.get('connect-src')).toEqual(["'self'", 'https://tile.openstreetmap.org'])
      expect(csp.get('worker-src')).toEqual(["'self'"])
      expect(csp.get('manifest-src')).toEqual(["'self'"])
      expect(csp.get('object-src')).toEqual(["'none'"])
      expect(csp.get('base-uri')).toEqual(["'self'"])
      expect(csp.get('frame-ancestors')).toEqual(["'none'"])
      expect(csp.get('form-action')).toEqual(["'self'"])
      expect(csp.has('upgrade-insecure-requests')).toBe(false)
      expect(res.headers['x-content-type-options']).toBe('nosniff')
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN')
      expect(res.headers['referrer-policy']).toBe('strict-origin-when-cross-origin')
      expect(res.headers['x-powered-by']).toBeUndefined()
    },
  )

  it('allows the configured basemap origin for images only as far as it must, and nothing when there is none', () => {
    expect(basemapSource('https://t0.tianditu.gov.cn/vec_w/wmts?x={x}&y={y}&l={z}')).toBe(
      'https://t0.tianditu.gov.cn',
    )
    expect(basemapSource('https://{s}.tile.example.com:8443/{z}/{x}/{y}.png')).toBe(
      'https://*.tile.example.com:8443',
    )
    expect(basemapSource('/tiles/{z}/{x}/{y}.png')).toBeNull()
    expect(basemapSource('')).toBeNull()
    expect(cspDirectives('')['img-src']).toEqual(["'self'", 'data:', 'blob:'])
  })

  it('never sends Access-Control-Allow-Origin, not even to a cross-origin request or preflight', async () => {
    const token = await login(server, 'alice', 'device-a-0001')
    const evil = 'https://evil.example'
    const responses = [
      await request(server.app).get('/api/areas').set('Origin', evil).set(bearer(token)),
      await request(server.app)
        .options('/api/sync/push')
        .set('Origin', evil)
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'authorization,content-type'),
      await request(server.app)
        .post('/api/auth/login')
        .set('Origin', evil)
        .send({ username: 'alice', password: PASSWORD, deviceId: 'device-a-0002' }),
    ]
    for (const res of responses) {
      expect(res.headers['access-control-allow-origin']).toBeUndefined()
      expect(res.headers['access-control-allow-credentials']).toBeUndefined()
    }
  })
})

describe('JSON only', () => {
  it.each([
    ['a form post', 'application/x-www-form-urlencoded', 'username=alice&password=x&deviceId=device-a-0001'],
    ['plain text', 'text/plain', '{"username":"alice"}'],
    ['multipart', 'multipart/form-data; boundary=x', '--x--'],
  ])('answers %s to a POST with 415 unsupported_media_type', async (_, type, body) => {
    const res = await request(server.app).post('/api/auth/login').set('Content-Type', type).send(body)
    expect(res.status).toBe(415)
    expect(apiErrorSchema.parse(res.body).error.code).toBe('unsupported_media_type')
  })

  it('answers a non-JSON PATCH with 415 too, and lets a bodiless POST through', async () => {
    const token = await login(server, 'alice', 'device-a-0001')
    const patch = await request(server.app)
      .patch('/api/admin/users/someone')
      .set(bearer(token))
      .set('Content-Type', 'text/plain')
      .send('disabled=true')
    expect(patch.status).toBe(415)
    const logout = await request(server.app).post('/api/auth/logout').set(bearer(token))
    expect(logout.status).toBe(200)
    const json = await request(server.app)
      .post('/api/auth/login')
      .set('Content-Type', 'application/json; charset=utf-8')
      .send(JSON.stringify({ username: 'alice', password: PASSWORD, deviceId: 'device-a-0001' }))
    expect(json.status).toBe(200)
  })
})

describe('compression', () => {
  it('gzips a large JSON answer for a client that accepts it, and sends it plain to one that does not', async () => {
    // An admin of the county gets every area with its polygon: a few KB.
    await addUser(server, 'root', 'admin', [COUNTY])
    const token = await login(server, 'root', 'device-root-1')
    const zipped = await request(server.app)
      .get('/api/areas')
      .set(bearer(token))
      .set('Accept-Encoding', 'gzip')
    expect(zipped.status).toBe(200)
    expect(
      Number(zipped.headers['content-length'] ?? 0) || JSON.stringify(zipped.body).length,
    ).toBeGreaterThan(1024)
    expect(zipped.headers['content-encoding']).toBe('gzip')
    expect(zipped.headers['vary']).toMatch(/Accept-Encoding/i)
    const plain = await request(server.app)
      .get('/api/areas')
      .set(bearer(token))
      .set('Accept-Encoding', 'identity')
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(plain.body).toEqual(zipped.body)
  })
})
