import { afterEach, describe, expect, it } from 'vitest'
import { GridPatrolDb } from '../../src/db/GridPatrolDb.ts'
import { sha256Hex } from '../../src/db/photoStore.ts'
import { createPhotoUploader } from '../../src/sync/photoUploader.ts'
import type { PhotoProgress } from '../../src/sync/photoUploader.ts'
import { FakePhotoServer } from './fakePhotoServer.ts'
import { freshDbName } from './testDevice.ts'

const CHUNK = 256 * 1024

const opened: GridPatrolDb[] = []
afterEach(async () => {
  for (const db of opened.splice(0)) if (db.isOpen()) await db.delete()
})

async function deviceWithPhoto(size: number) {
  const db = new GridPatrolDb(freshDbName())
  opened.push(db)
  const data = new Uint8Array(size)
  for (let i = 0; i < size; i++) data[i] = (i * 31 + 7) % 251
  const sha256 = await sha256Hex(data.buffer)
  await db.photoBlobs.put({
    sha256,
    mime: 'image/jpeg',
    data: data.buffer,
    bytes: size,
    uploaded: 0,
    offset: 0,
    createdAt: 1,
  })
  return { db, sha256, data }
}

describe('photoUploader', () => {
  it('uploads in chunks, resumes after a lost response and a 409, and marks uploaded only when complete', async () => {
    const size = 3 * CHUNK + 1000
    const { db, sha256, data } = await deviceWithPhoto(size)
    const server = new FakePhotoServer()
    server.loseResponseOfPut = 2
    const progress: PhotoProgress[] = []
    const uploader = createPhotoUploader({
      db,
      fetch: server.fetch,
      token: async () => 'token-1',
      onProgress: (p) => progress.push(p),
    })

    const first = await uploader.uploadPending()
    expect(first).toEqual({ uploaded: 0, failed: 1 })
    const kept = (await db.photoBlobs.get(sha256))!
    expect(kept.uploaded).toBe(0)
    expect(kept.data.byteLength).toBe(size)
    expect(kept.offset).toBe(CHUNK)
    expect(server.held.get(sha256)!.length).toBe(2 * CHUNK)

    // HEAD lies once (a stale offset): the PUT gets a 409 with the real offset and carries on from there.
    server.staleHeadOnce = CHUNK
    expect(await uploader.uploadPending()).toEqual({ uploaded: 1, failed: 0 })
    // Resumed, not restarted: after the 409 the PUTs continue at 2 and 3 chunks, never from 0 again.
    expect(server.puts.slice(2)).toEqual([
      { offset: CHUNK, status: 409 },
      { offset: 2 * CHUNK, status: 200 },
      { offset: 3 * CHUNK, status: 200 },
    ])
    expect(server.complete.has(sha256)).toBe(true)
    expect(Buffer.compare(server.held.get(sha256)!, Buffer.from(data))).toBe(0)
    expect(await db.photoBlobs.get(sha256)).toMatchObject({ uploaded: 1, offset: size })
    expect(progress.at(-1)).toEqual({ sha256, sent: size, total: size })
    expect(await uploader.pendingCount()).toBe(0)

    const putsBefore = server.puts.length
    expect(await uploader.uploadPending()).toEqual({ uploaded: 0, failed: 0 })
    expect(server.puts.length).toBe(putsBefore)
  })

  it('an already complete photo is marked uploaded after one HEAD', async () => {
    const { db, sha256 } = await deviceWithPhoto(1000)
    const server = new FakePhotoServer()
    server.complete.add(sha256)
    const uploader = createPhotoUploader({ db, fetch: server.fetch, token: async () => 'token-1' })
    expect(await uploader.uploadPending()).toEqual({ uploaded: 1, failed: 0 })
    expect(server.puts).toEqual([])
    expect((await db.photoBlobs.get(sha256))!.uploaded).toBe(1)
  })

  it('keeps the photo pending when the server refuses the token or the hash', async () => {
    const { db, sha256 } = await deviceWithPhoto(1000)
    const server = new FakePhotoServer()
    const logout = createPhotoUploader({ db, fetch: server.fetch, token: async () => 'expired' })
    expect((await logout.uploadPending()).failed).toBe(1)
    // A corrupted local copy: the server drops the partial and answers 400; nothing is marked uploaded.
    await db.photoBlobs.update(sha256, { data: new Uint8Array(1000).buffer })
    const uploader = createPhotoUploader({ db, fetch: server.fetch, token: async () => 'token-1' })
    expect(await uploader.uploadPending()).toEqual({ uploaded: 0, failed: 1 })
    expect((await db.photoBlobs.get(sha256))!.uploaded).toBe(0)
  })
})
