/**
 * Photo bytes (PUT/HEAD/GET /api/photos/:sha256) against a real temp DATA_DIR, and the person records that field
 * capture adds (masking of ID numbers, the ID check digit refused at the edge).
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, utimesSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import request from 'supertest'
import sharp from 'sharp'
import { idCheckCharacter } from '#shared/domain/idNumber.ts'
import { unmaskResponseSchema } from '#shared/schemas/api.ts'
import { apiErrorSchema, pushResponseSchema } from '#shared/sync/protocol.ts'
import type { ServerRecord } from '#shared/sync/protocol.ts'
import { ABANDONED_UPLOAD_MS, photoPaths } from '../../server/services/photoService.ts'
import {
  COUNTY,
  GRID_A,
  GRID_D,
  T0,
  TOWN,
  VILLAGE,
  addUser,
  bearer,
  createOp,
  householdFields,
  login,
  push,
  stamp,
  startTestServer,
} from '../fixtures/serverHarness.ts'
import type { TestServer } from '../fixtures/serverHarness.ts'

const HOUSEHOLD = '01900000-0000-7000-8000-000000000001'
const PHOTO_RECORD = '01900000-0000-7000-8000-000000000002'
const PERSON = '01900000-0000-7000-8000-000000000003'
const WORKER_DEVICE = 'device-worker-1'

let server: TestServer
const tokens: Record<string, string> = {}
let jpeg: Buffer
let sha: string

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')
const errorOf = (body: unknown) => apiErrorSchema.parse(body).error

/** Three unequal chunks of `bytes`. */
const thirds = (bytes: Buffer): [number, Buffer][] => {
  const a = Math.floor(bytes.length / 3)
  const b = Math.floor((bytes.length * 2) / 3)
  return [
    [0, bytes.subarray(0, a)],
    [a, bytes.subarray(a, b)],
    [b, bytes.subarray(b)],
  ]
}

const putChunk = (hash: string, size: number, offset: number, chunk: Buffer, token = tokens.worker!) =>
  request(server.app)
    .put(`/api/photos/${hash}`)
    .query({ size, offset })
    .set(bearer(token))
    .set('Content-Type', 'application/octet-stream')
    .send(chunk)

const head = (hash: string, token = tokens.worker!) =>
  request(server.app).head(`/api/photos/${hash}`).set(bearer(token))

const getPhoto = (hash: string, token: string, suffix = '') =>
  request(server.app)
    .get(`/api/photos/${hash}${suffix}`)
    .set(bearer(token))
    .buffer(true)
    .parse((res, callback) => {
      const parts: Buffer[] = []
      res.on('data', (part: Buffer) => parts.push(part))
      res.on('end', () => callback(null, Buffer.concat(parts)))
    })

async function uploadWhole(bytes: Buffer, hash = sha256(bytes)) {
  for (const [offset, chunk] of thirds(bytes)) {
    const res = await putChunk(hash, bytes.length, offset, chunk)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
  }
}

const photoFields = (overrides: Record<string, unknown> = {}) => ({
  gridId: GRID_A,
  ownerKind: 'household',
  ownerId: HOUSEHOLD,
  sha256: sha,
  mime: 'image/jpeg',
  width: 800,
  height: 600,
  bytes: jpeg.length,
  takenAt: T0 - 1000,
  ...overrides,
})

beforeEach(async () => {
  server = await startTestServer()
  await addUser(server, 'root', 'admin', [COUNTY])
  await addUser(server, 'worker', 'worker', [GRID_A])
  await addUser(server, 'worker_d', 'worker', [GRID_D])
  await addUser(server, 'leader', 'leader', [VILLAGE])
  await addUser(server, 'handler', 'handler', [TOWN])
  tokens.admin = await login(server, 'root', 'device-admin-1')
  tokens.worker = await login(server, 'worker', WORKER_DEVICE)
  tokens.workerD = await login(server, 'worker_d', 'device-worker-d')
  tokens.leader = await login(server, 'leader', 'device-leader-1')
  tokens.handler = await login(server, 'handler', 'device-handler-1')
  // Noise compresses badly: a JPEG of a few hundred KB, like a shrunk phone photo.
  jpeg = await sharp({
    create: {
      width: 800,
      height: 600,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  })
    .jpeg({ quality: 85 })
    .toBuffer()
  sha = sha256(jpeg)
})
afterEach(() => server.close())

describe('photo upload', () => {
  it('three chunks → complete; the original is byte-equal and a smaller JPEG thumbnail (≤320 px) sits beside it', async () => {
    const chunks = thirds(jpeg)
    const answers = []
    for (const [offset, chunk] of chunks) {
      const res = await putChunk(sha, jpeg.length, offset, chunk)
      expect(res.status).toBe(200)
      answers.push(res.body)
    }
    expect(answers).toEqual([
      { complete: false, offset: chunks[1]![0] },
      { complete: false, offset: chunks[2]![0] },
      { complete: true },
    ])
    const paths = photoPaths(`${server.dir}/photos`, sha)
    expect(paths.original).toBe(`${server.dir}/photos/${sha.slice(0, 2)}/${sha}`)
    expect(readFileSync(paths.original).equals(jpeg)).toBe(true)
    expect(existsSync(paths.partial)).toBe(false)
    const thumb = readFileSync(paths.thumb)
    const meta = await sharp(thumb).metadata()
    expect(meta.format).toBe('jpeg')
    expect(Math.max(meta.width, meta.height)).toBe(320)
    expect(thumb.length).toBeLessThan(jpeg.length)
    const row = await server.store.getPhoto(sha)
    expect(row).toMatchObject({
      bytes: jpeg.length,
      mime: 'image/jpeg',
      width: 800,
      height: 600,
      complete: true,
    })

    const done = await head(sha)
    expect(done.status).toBe(200)
    expect(done.headers['upload-offset']).toBe(String(jpeg.length))
  })

  it('resumes after an interrupted chunk: the torn chunk keeps nothing, HEAD reports the offset, the rest completes', async () => {
    const [[, first], [secondAt, second], [thirdAt, third]] = thirds(jpeg) as [
      [number, Buffer],
      [number, Buffer],
      [number, Buffer],
    ]
    expect((await putChunk(sha, jpeg.length, 0, first)).body).toEqual({ complete: false, offset: secondAt })

    // The second chunk is cut off half-way: the connection drops before the body is complete.
    const listening = server.app.listen(0, '127.0.0.1')
    await new Promise<void>((resolve) => listening.once('listening', () => resolve()))
    const { port } = listening.address() as AddressInfo
    await new Promise<void>((resolve) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        method: 'PUT',
        path: `/api/photos/${sha}?size=${jpeg.length}&offset=${secondAt}`,
        headers: {
          Authorization: `Bearer ${tokens.worker}`,
          'Content-Type': 'application/octet-stream',
          'Content-Length': String(second.length),
        },
      })
      req.on('error', () => resolve())
      req.on('close', () => resolve())
      req.write(second.subarray(0, second.length >> 1), () => req.destroy())
    })
    await new Promise<void>((resolve) => listening.close(() => resolve()))

    const partial = await head(sha)
    expect(partial.status).toBe(404)
    expect(partial.headers['upload-offset']).toBe(String(secondAt))
    expect(partial.headers['upload-length']).toBe(String(jpeg.length))
    expect((await putChunk(sha, jpeg.length, secondAt, second)).body).toEqual({
      complete: false,
      offset: thirdAt,
    })
    expect((await putChunk(sha, jpeg.length, thirdAt, third)).body).toEqual({ complete: true })
    expect(readFileSync(photoPaths(`${server.dir}/photos`, sha).original).equals(jpeg)).toBe(true)
  })

  it('drops a partial upload abandoned for a week (bytes and row) at the next upload; a live one stays', async () => {
    const [[, first]] = thirds(jpeg) as [[number, Buffer]]
    await putChunk(sha, jpeg.length, 0, first)
    const abandoned = photoPaths(`${server.dir}/photos`, sha).partial
    const weekAgo = new Date(server.clock.now - ABANDONED_UPLOAD_MS - 60_000)
    utimesSync(abandoned, weekAgo, weekAgo)
    // Another phone uploads a while later: the hourly sweep runs with it.
    server.clock.now += 2 * 3600_000
    tokens.leader = await login(server, 'leader', 'device-leader-1')
    const other = Buffer.from('another photo, part one')
    const otherSha = sha256(Buffer.concat([other, Buffer.from('!')]))
    expect((await putChunk(otherSha, other.length + 1, 0, other, tokens.leader)).body).toEqual({
      complete: false,
      offset: other.length,
    })
    // The sweep runs in the background: wait for both of its outcomes (the bytes go first, then the row).
    await vi.waitFor(
      async () => {
        expect(existsSync(abandoned)).toBe(false)
        expect(await server.store.getPhoto(sha)).toBeNull()
      },
      { timeout: 15_000 },
    )
    const gone = await head(sha, tokens.leader)
    expect(gone.status).toBe(404)
    expect(gone.headers['upload-offset']).toBeUndefined()
    expect((await head(otherSha, tokens.leader)).headers['upload-offset']).toBe(String(other.length))
  })

  it('a chunk at the wrong offset → 409 offset_mismatch with the offset held; nothing is appended', async () => {
    const [[, first], [secondAt, second]] = thirds(jpeg) as [[number, Buffer], [number, Buffer]]
    await putChunk(sha, jpeg.length, 0, first)
    const ahead = await putChunk(sha, jpeg.length, secondAt + 10, second)
    expect(ahead.status).toBe(409)
    expect(ahead.body).toMatchObject({ error: { code: 'offset_mismatch' }, offset: secondAt })
    expect(ahead.headers['upload-offset']).toBe(String(secondAt))
    const replayed = await putChunk(sha, jpeg.length, 0, first)
    expect(replayed.status).toBe(409)
    expect(replayed.body.offset).toBe(secondAt)
    expect((await head(sha)).headers['upload-offset']).toBe(String(secondAt))
  })

  it('two uploads of the same photo at once do not corrupt it: one chunk lands, the other is told the offset', async () => {
    const [[, first], [secondAt]] = thirds(jpeg) as [[number, Buffer], [number, Buffer]]
    const [a, b] = await Promise.all([
      putChunk(sha, jpeg.length, 0, first),
      putChunk(sha, jpeg.length, 0, first, tokens.leader!),
    ])
    expect([a.status, b.status].sort()).toEqual([200, 409])
    expect((a.status === 409 ? a : b).body.offset).toBe(secondAt)
    expect(readFileSync(photoPaths(`${server.dir}/photos`, sha).partial).length).toBe(secondAt)
  })

  it('a wrong hash → 400 hash_mismatch, and nothing is kept', async () => {
    const wrong = sha256(Buffer.from('something else'))
    const chunks = thirds(jpeg)
    await putChunk(wrong, jpeg.length, 0, chunks[0]![1])
    await putChunk(wrong, jpeg.length, chunks[1]![0], chunks[1]![1])
    const last = await putChunk(wrong, jpeg.length, chunks[2]![0], chunks[2]![1])
    expect(last.status).toBe(400)
    expect(errorOf(last.body).code).toBe('hash_mismatch')
    const paths = photoPaths(`${server.dir}/photos`, wrong)
    expect([existsSync(paths.partial), existsSync(paths.original), existsSync(paths.thumb)]).toEqual([
      false,
      false,
      false,
    ])
    expect(await server.store.getPhoto(wrong)).toBeNull()
    const unknown = await head(wrong)
    expect(unknown.status).toBe(404)
    expect(unknown.headers['upload-offset']).toBeUndefined()
  })

  it('uploading a complete photo again answers complete at once and changes nothing', async () => {
    await uploadWhole(jpeg)
    const again = await putChunk(sha, jpeg.length, 0, thirds(jpeg)[0]![1], tokens.leader!)
    expect(again.status).toBe(200)
    expect(again.body).toEqual({ complete: true })
    expect(readFileSync(photoPaths(`${server.dir}/photos`, sha).original).equals(jpeg)).toBe(true)
  })

  it('refuses bad requests: a bad sha, a size over 20 MiB, a chunk past the size, another content type, a handler', async () => {
    expect((await putChunk('ABC', 10, 0, Buffer.from('x'))).status).toBe(400)
    expect((await putChunk(sha, 20 * 1024 * 1024 + 1, 0, Buffer.from('x'))).status).toBe(400)
    const past = await putChunk(sha, 4, 0, Buffer.from('12345'))
    expect(past.status).toBe(400)
    expect(errorOf(past.body).field).toBe('size')
    const text = await request(server.app)
      .put(`/api/photos/${sha}`)
      .query({ size: 5, offset: 0 })
      .set(bearer(tokens.worker!))
      .set('Content-Type', 'text/plain')
      .send('hello')
    expect(text.status).toBe(415)
    const octetElsewhere = await request(server.app)
      .post('/api/sync/push')
      .set(bearer(tokens.worker!))
      .set('Content-Type', 'application/octet-stream')
      .send(Buffer.from('{}'))
    expect(octetElsewhere.status).toBe(415)
    expect((await putChunk(sha, jpeg.length, 0, jpeg.subarray(0, 10), tokens.handler!)).status).toBe(403)
    const tooBig = await putChunk(sha, 2 * 1024 * 1024, 0, Buffer.alloc(1024 * 1024 + 1))
    expect(tooBig.status).toBe(413)
    expect(await server.store.getPhoto(sha)).toBeNull()
  })

  it('refuses bytes that are not an image, and keeps nothing of them', async () => {
    const bytes = Buffer.from('not a photo at all')
    const hash = sha256(bytes)
    const res = await putChunk(hash, bytes.length, 0, bytes)
    expect(res.status).toBe(400)
    expect(await server.store.getPhoto(hash)).toBeNull()
  })
})

describe('photo reads', () => {
  beforeEach(async () => {
    await uploadWhole(jpeg)
  })

  it('are 404 while no photo record points at the bytes, even for the uploader', async () => {
    expect((await getPhoto(sha, tokens.worker!)).status).toBe(404)
  })

  it('serve the original and the thumbnail in scope, immutable; 404 out of scope; 403 to a handler', async () => {
    const res = await push(server, tokens.worker!, WORKER_DEVICE, [
      createOp(1, HOUSEHOLD, stamp(-5000, WORKER_DEVICE), householdFields()),
      createOp(2, PHOTO_RECORD, stamp(-4000, WORKER_DEVICE), photoFields(), 'photo'),
    ])
    expect(pushResponseSchema.parse(res.body).results.map((r) => r.status)).toEqual(['applied', 'applied'])

    for (const token of [tokens.worker!, tokens.leader!, tokens.admin!]) {
      const original = await getPhoto(sha, token)
      expect(original.status).toBe(200)
      expect(original.headers['content-type']).toBe('image/jpeg')
      expect(original.headers['cache-control']).toContain('immutable')
      expect((original.body as Buffer).equals(jpeg)).toBe(true)
    }
    const thumb = await getPhoto(sha, tokens.leader!, '/thumb')
    expect(thumb.status).toBe(200)
    expect(thumb.headers['cache-control']).toContain('immutable')
    const thumbMeta = await sharp(thumb.body as Buffer).metadata()
    expect([thumbMeta.format, Math.max(thumbMeta.width, thumbMeta.height)]).toEqual(['jpeg', 320])

    expect((await getPhoto(sha, tokens.workerD!)).status).toBe(404)
    expect((await getPhoto(sha, tokens.workerD!, '/thumb')).status).toBe(404)
    expect((await getPhoto(sha, tokens.handler!)).status).toBe(403)
    expect((await request(server.app).get(`/api/photos/${sha}`)).status).toBe(401)
  })

  it('are 404 again once the only photo record is deleted', async () => {
    const s = stamp(-4000, WORKER_DEVICE)
    await push(server, tokens.worker!, WORKER_DEVICE, [createOp(1, PHOTO_RECORD, s, photoFields(), 'photo')])
    expect((await getPhoto(sha, tokens.worker!)).status).toBe(200)
    const base = Object.fromEntries(Object.keys(photoFields()).map((k) => [k, s]))
    await push(server, tokens.worker!, WORKER_DEVICE, [
      { type: 'delete', seq: 2, kind: 'photo', id: PHOTO_RECORD, stamp: stamp(-3000, WORKER_DEVICE), base },
    ])
    expect((await getPhoto(sha, tokens.worker!)).status).toBe(404)
  })
})

describe('person records', () => {
  const first17 = '33052319800101123'
  const idNumber = `${first17}${idCheckCharacter(first17)}`
  const personFields = (overrides: Record<string, unknown> = {}) => ({
    gridId: GRID_A,
    householdId: HOUSEHOLD,
    name: '潘建国',
    gender: 'male',
    birthDate: '1980-01-01',
    idNumber,
    phone: '13800001111',
    relation: 'head',
    populationType: 'registered',
    tags: [],
    disabilityGrade: null,
    notes: null,
    ...overrides,
  })

  it('ID number and phone are masked for a leader, clear after an audited unmask', async () => {
    const res = await push(server, tokens.worker!, WORKER_DEVICE, [
      createOp(1, PERSON, stamp(-5000, WORKER_DEVICE), personFields(), 'person'),
    ])
    expect(pushResponseSchema.parse(res.body).results[0]!.status).toBe('applied')

    const masked = (
      await request(server.app).get(`/api/records/person/${PERSON}`).set(bearer(tokens.leader!))
    ).body as ServerRecord
    expect(masked.fields.idNumber).toBe(`${idNumber.slice(0, 4)}**********${idNumber.slice(-4)}`)
    expect(masked.fields.phone).toBe('138****1111')

    server.clock.now = T0 + 7_000
    const unmasked = await request(server.app)
      .post(`/api/records/person/${PERSON}/unmask`)
      .set(bearer(tokens.leader!))
      .send({ field: 'idNumber' })
    expect(unmasked.status).toBe(200)
    expect(unmaskResponseSchema.parse(unmasked.body)).toEqual({ field: 'idNumber', value: idNumber })
    const audit = await request(server.app).get('/api/admin/audit').set(bearer(tokens.admin!))
    expect(audit.body.entries).toEqual([
      expect.objectContaining({
        at: T0 + 7_000,
        username: 'leader',
        action: 'unmask',
        recordKind: 'person',
        recordId: PERSON,
        field: 'idNumber',
      }),
    ])
  })

  it('a person with a wrong ID check digit is refused: invalid_field naming idNumber', async () => {
    const wrongDigit = `${first17}${idCheckCharacter(first17) === '0' ? '1' : '0'}`
    const res = await push(server, tokens.worker!, WORKER_DEVICE, [
      createOp(1, PERSON, stamp(-5000, WORKER_DEVICE), personFields({ idNumber: wrongDigit }), 'person'),
    ])
    const [result] = pushResponseSchema.parse(res.body).results
    expect(result).toMatchObject({ status: 'refused', code: 'invalid_field', field: 'idNumber' })
    expect(await server.store.getRecord(PERSON)).toBeNull()
  })
})
