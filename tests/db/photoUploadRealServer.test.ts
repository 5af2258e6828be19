/**
 * The device's photo uploader and photoUrl against the real server over HTTP (real SQLite, real sharp thumbnail):
 * chunks of 64 KiB, a response lost mid-upload, then a resume from HEAD's Upload-Offset to completion.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, expect, it } from 'vitest'
import sharp from 'sharp'
import { GridPatrolDb } from '../../src/db/GridPatrolDb.ts'
import { sha256Hex } from '../../src/db/photoStore.ts'
import { createPhotoUploader } from '../../src/sync/photoUploader.ts'
import { photoUrl } from '../../src/sync/photoUrl.ts'
import {
  GRID_A,
  T0,
  addUser,
  createOp,
  login,
  push,
  stamp,
  startTestServer,
} from '../fixtures/serverHarness.ts'
import type { TestServer } from '../fixtures/serverHarness.ts'
import { freshDbName } from './testDevice.ts'

const HOUSEHOLD = '01900000-0000-7000-8000-0000000000a1'
const PHOTO = '01900000-0000-7000-8000-0000000000a2'
const DEVICE = 'device-photo-uploader'

let server: TestServer
let listener: Server
let baseUrl: string
let db: GridPatrolDb

beforeEach(async () => {
  server = await startTestServer()
  listener = server.app.listen(0, '127.0.0.1')
  await new Promise((resolve) => listener.once('listening', resolve))
  baseUrl = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`
  db = new GridPatrolDb(freshDbName())
})
afterEach(async () => {
  await new Promise((resolve) => listener.close(resolve))
  await server.close()
  await db.delete()
})

it('uploads a photo in chunks, survives a lost response, and the thumbnail is served back', async () => {
  await addUser(server, 'worker', 'worker', [GRID_A])
  const token = await login(server, 'worker', DEVICE)
  const jpeg = await sharp({
    create: {
      width: 900,
      height: 600,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  })
    .jpeg({ quality: 85 })
    .toBuffer()
  const data = jpeg.buffer.slice(jpeg.byteOffset, jpeg.byteOffset + jpeg.byteLength) as ArrayBuffer
  const sha = await sha256Hex(data)
  const photoFields = {
    gridId: GRID_A,
    ownerKind: 'household',
    ownerId: HOUSEHOLD,
    sha256: sha,
    mime: 'image/jpeg',
    width: 900,
    height: 600,
    bytes: data.byteLength,
    takenAt: T0 - 1000,
  }
  const pushed = await push(server, token, DEVICE, [
    createOp(1, HOUSEHOLD, stamp(1, DEVICE)),
    createOp(2, PHOTO, stamp(2, DEVICE), photoFields, 'photo'),
  ])
  expect(pushed.status).toBe(200)
  await db.photoBlobs.put({
    sha256: sha,
    mime: 'image/jpeg',
    data,
    bytes: data.byteLength,
    uploaded: 0,
    offset: 0,
    createdAt: 1,
  })

  let puts = 0
  const losing: typeof fetch = async (input, init) => {
    const response = await fetch(input, init)
    if (init?.method === 'PUT' && ++puts === 2) throw new TypeError('connection reset')
    return response
  }
  const chunkSize = 64 * 1024
  const first = createPhotoUploader({ db, baseUrl, chunkSize, fetch: losing, token: async () => token })
  expect(await first.uploadPending()).toEqual({ uploaded: 0, failed: 1 })
  expect((await db.photoBlobs.get(sha))!.uploaded).toBe(0)

  const sent: number[] = []
  const second = createPhotoUploader({
    db,
    baseUrl,
    chunkSize,
    token: async () => token,
    onProgress: (progress) => sent.push(progress.sent),
  })
  expect(await second.uploadPending()).toEqual({ uploaded: 1, failed: 0 })
  expect(sent[0]).toBe(2 * chunkSize) // resumed where the server was, not from 0
  expect(sent.at(-1)).toBe(data.byteLength)
  expect(await db.photoBlobs.get(sha)).toMatchObject({ uploaded: 1, offset: data.byteLength })

  const head = await fetch(`${baseUrl}/api/photos/${sha}`, {
    method: 'HEAD',
    headers: { Authorization: `Bearer ${token}` },
  })
  expect(head.status).toBe(200)

  // Shown from the server once the local bytes are gone: the thumbnail is a smaller JPEG.
  await db.photoBlobs.clear()
  const url = await photoUrl({ db, baseUrl, token: async () => token }, sha, 'thumb')
  expect(url).toMatch(/^blob:/)
  const thumb = Buffer.from(await (await fetch(url!)).arrayBuffer())
  const meta = await sharp(thumb).metadata()
  expect(meta.format).toBe('jpeg')
  expect(Math.max(meta.width, meta.height)).toBeLessThanOrEqual(320)
})
