import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { apiErrorSchema } from '#shared/sync/protocol.ts'
import type { ApiError } from '#shared/sync/protocol.ts'
import {
  GRID_A,
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
const id = (n: number) => `01900000-0000-7000-8000-${String(n).padStart(12, '0')}`

let server: TestServer
let listener: Server
let token: string

// Over a real socket with fetch: supertest would serialise a Buffer sent as application/json as JSON itself.
beforeEach(async () => {
  server = await startTestServer({ env: { BODY_LIMIT: '64kb' } })
  await addUser(server, 'alice')
  token = await login(server, 'alice', A)
  listener = server.app.listen(0, '127.0.0.1')
  await new Promise((resolve) => listener.once('listening', resolve))
})
afterEach(async () => {
  await new Promise((resolve) => listener.close(resolve))
  await server.close()
})

const errorOf = (body: unknown): ApiError['error'] => apiErrorSchema.parse(body).error

/** POST raw bytes to the push endpoint with the given Content-Encoding; the status and the JSON answer. */
async function postEncoded(bytes: Buffer, encoding: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`http://127.0.0.1:${(listener.address() as AddressInfo).port}/api/sync/push`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      'Content-Encoding': encoding,
    },
    body: new Uint8Array(bytes),
  })
  return { status: response.status, body: await response.json() }
}

const ops = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    createOp(
      i + 1,
      id(i + 1),
      stamp(-1000 + i, A),
      householdFields({ gridId: GRID_A, headName: `住户${i}` }),
    ),
  )

describe('gzipped request bodies (Content-Encoding: gzip)', () => {
  it('applies a gzipped push exactly as the same push in plain JSON', async () => {
    const body = JSON.stringify(pushBody(A, ops(20)))
    const res = await postEncoded(gzipSync(body), 'gzip')
    expect(res.status).toBe(200)
    expect((res.body as { results: { status: string }[] }).results.map((r) => r.status)).toEqual(
      Array(20).fill('applied'),
    )
    const stored = await snapshot(server)
    expect(stored.recordRows.map((r) => r.id).sort()).toEqual(ops(20).map((op) => op.id))
  })

  it('refuses a body whose inflated size passes the limit with 413, however small it was compressed, storing nothing', async () => {
    // 64 MB of JSON whitespace around a valid push: ~64 KB gzipped, a thousand times the 64 kb limit once inflated.
    const bomb = Buffer.concat([
      Buffer.from('{"protocol":1,"deviceId":"device-a-0001","ops":['),
      Buffer.alloc(64 * 1024 * 1024, ' '),
      Buffer.from(`${JSON.stringify(ops(1)[0])}]}`),
    ])
    const compressed = gzipSync(bomb)
    expect(compressed.length).toBeLessThan(128 * 1024)
    const before = process.memoryUsage().rss
    const res = await postEncoded(compressed, 'gzip')
    expect(res.status).toBe(413)
    expect(errorOf(res.body)).toMatchObject({ code: 'payload_too_large' })
    expect(errorOf(res.body).message).toContain('64kb')
    // The server stopped inflating at the limit: it never held the 64 MB.
    expect(process.memoryUsage().rss - before).toBeLessThan(48 * 1024 * 1024)
    expect((await snapshot(server)).records).toBe(0)
  })

  it('answers an encoding it does not know with 415 and a message, storing nothing', async () => {
    const res = await postEncoded(Buffer.from(JSON.stringify(pushBody(A, ops(1)))), 'x-unknown')
    expect(res.status).toBe(415)
    expect(errorOf(res.body)).toMatchObject({ code: 'unsupported_media_type' })
    expect(errorOf(res.body).message).toMatch(/编码/)
    expect((await snapshot(server)).records).toBe(0)
  })

  it.each([
    ['bytes that are not gzip at all', () => Buffer.from('this is not gzip data, just text')],
    ['a gzip stream cut short', () => gzipSync(JSON.stringify(pushBody(A, ops(5)))).subarray(0, 200)],
    [
      'a gzip stream with a flipped byte',
      () => {
        const bytes = gzipSync(JSON.stringify(pushBody(A, ops(5))))
        bytes[bytes.length - 6] = bytes[bytes.length - 6]! ^ 0xff
        return bytes
      },
    ],
  ])('answers %s with 400 invalid_encoding and a message, storing nothing', async (_, bytes) => {
    const res = await postEncoded(bytes(), 'gzip')
    expect(res.status).toBe(400)
    expect(errorOf(res.body)).toMatchObject({ code: 'invalid_encoding' })
    expect(errorOf(res.body).message).toMatch(/压缩/)
    expect((await snapshot(server)).records).toBe(0)
  })
})
