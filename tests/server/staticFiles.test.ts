import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import request from 'supertest'
import { startTestServer } from '../fixtures/serverHarness.ts'
import type { TestServer } from '../fixtures/serverHarness.ts'

const INDEX = '<!doctype html><html lang="zh-CN"><title>网格巡查</title></html>'
let dist: string
let server: TestServer

beforeAll(async () => {
  dist = mkdtempSync(join(tmpdir(), 'gridpatrol-dist-'))
  mkdirSync(join(dist, 'assets'))
  writeFileSync(join(dist, 'index.html'), INDEX)
  writeFileSync(join(dist, 'sw.js'), 'self.addEventListener("install", () => {})')
  writeFileSync(join(dist, 'registerSW.js'), '')
  writeFileSync(join(dist, 'manifest.webmanifest'), '{"name":"网格巡查"}')
  writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
  writeFileSync(join(dist, 'assets', 'index-Bx1y2z3A.js'), 'console.log("app")')
  server = await startTestServer({ staticDir: dist })
})
afterAll(async () => {
  await server.close()
  rmSync(dist, { recursive: true, force: true })
})

describe('static app serving', () => {
  it('caches hashed assets for a year, immutable', async () => {
    const res = await request(server.app).get('/assets/index-Bx1y2z3A.js')
    expect(res.status).toBe(200)
    expect(res.text).toBe('console.log("app")')
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable')
  })

  it.each(['/index.html', '/sw.js', '/registerSW.js', '/manifest.webmanifest'])(
    'revalidates %s (no-cache)',
    async (path) => {
      const res = await request(server.app).get(path)
      expect(res.status).toBe(200)
      expect(res.headers['cache-control']).toBe('no-cache')
    },
  )

  it.each(['/', '/records/household', '/records/incident/01900000-0000-7000-8000-000000000001', '/map'])(
    'answers the navigation %s with index.html (SPA fallback)',
    async (path) => {
      const res = await request(server.app).get(path).set('Accept', 'text/html,application/xhtml+xml')
      expect(res.status).toBe(200)
      expect(res.text).toBe(INDEX)
      expect(res.headers['cache-control']).toBe('no-cache')
    },
  )

  it('does not answer a missing file, a non-GET or an API route with the app shell', async () => {
    const missing = await request(server.app).get('/assets/gone-123.js')
    expect(missing.status).toBe(404)
    expect(missing.text).not.toContain('网格巡查')
    const post = await request(server.app).post('/records/household').set('Accept', 'text/html')
    expect(post.status).toBe(404)
    const api = await request(server.app).get('/api/unknown').set('Accept', 'text/html')
    expect(api.status).toBe(404)
    expect(api.type).toBe('application/json')
    expect(api.body).toMatchObject({ error: { code: 'not_found' } })
    const json = await request(server.app).get('/records/household').set('Accept', 'application/json')
    expect(json.status).toBe(404)
  })
})
