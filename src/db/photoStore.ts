/**
 * Photos on the device. A photo is shrunk (longest side ~1600 px JPEG) before anything is kept, hashed with
 * SHA-256 (its key on the server, so uploads are idempotent and resumable), and its bytes are kept as an ArrayBuffer
 * in `photoBlobs` (Safari's IndexedDB keeps ArrayBuffers reliably, Blobs less so) in the SAME transaction as the
 * `photo` record and its outbox op: there is never a photo record without its bytes on this device.
 * The shrink step is injectable because DOM image APIs are missing in Node tests.
 */
import type { PHOTO_OWNER_KINDS } from '#shared/schemas/records.ts'
import type { GridPatrolDb } from './GridPatrolDb.ts'
import type { RecordRepository } from './recordRepository.ts'

export interface ShrunkImage {
  data: ArrayBuffer
  mime: 'image/jpeg' | 'image/webp' | 'image/png'
  width: number
  height: number
}

export type ShrinkImage = (file: Blob, maxSide: number) => Promise<ShrunkImage>

export interface PhotoOwner {
  kind: (typeof PHOTO_OWNER_KINDS)[number]
  id: string
  gridId: string
}

export interface PhotoStoreDeps {
  db: GridPatrolDb
  repository: Pick<RecordRepository, 'create'>
  now: () => number
  shrinkImage?: ShrinkImage
}

export const PHOTO_MAX_SIDE = 1600
const JPEG_QUALITY = 0.8
/** A JPEG this small and within PHOTO_MAX_SIDE is kept as it is (re-encoding would only lose quality). */
const SMALL_BYTES = 400 * 1024

/** Shrink in the browser: createImageBitmap + OffscreenCanvas (or a canvas element where OffscreenCanvas is missing). */
export const browserShrinkImage: ShrinkImage = async (file, maxSide) => {
  const bitmap = await createImageBitmap(file)
  try {
    const { width, height } = bitmap
    const scale = Math.min(1, maxSide / Math.max(width, height))
    if (scale === 1 && file.type === 'image/jpeg' && file.size <= SMALL_BYTES) {
      return { data: await file.arrayBuffer(), mime: 'image/jpeg', width, height }
    }
    const w = Math.max(1, Math.round(width * scale))
    const h = Math.max(1, Math.round(height * scale))
    let blob: Blob
    if (typeof OffscreenCanvas !== 'undefined') {
      const canvas = new OffscreenCanvas(w, h)
      canvas.getContext('2d')!.drawImage(bitmap, 0, 0, w, h)
      blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: JPEG_QUALITY })
    } else {
      const canvas = document.createElement('canvas')
      canvas.width = w
      canvas.height = h
      canvas.getContext('2d')!.drawImage(bitmap, 0, 0, w, h)
      blob = await new Promise<Blob>((resolve, reject) =>
        canvas.toBlob(
          (made) => (made ? resolve(made) : reject(new Error('toBlob failed'))),
          'image/jpeg',
          JPEG_QUALITY,
        ),
      )
    }
    return { data: await blob.arrayBuffer(), mime: 'image/jpeg', width: w, height: h }
  } finally {
    bitmap.close()
  }
}

export async function sha256Hex(data: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data))
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('')
}

/** Shrink, hash and keep a photo of `owner`; returns the id of its `photo` record. */
export async function addPhoto(deps: PhotoStoreDeps, file: Blob, owner: PhotoOwner): Promise<string> {
  const { db } = deps
  const shrunk = await (deps.shrinkImage ?? browserShrinkImage)(file, PHOTO_MAX_SIDE)
  const sha256 = await sha256Hex(shrunk.data)
  const takenAt = deps.now()
  const tables = [db.records, db.outbox, db.refused, db.meta, db.areas, db.photoBlobs]
  return db.transaction('rw', tables, async () => {
    const existing = await db.photoBlobs.get(sha256)
    if (!existing) {
      await db.photoBlobs.put({
        sha256,
        mime: shrunk.mime,
        data: shrunk.data,
        bytes: shrunk.data.byteLength,
        uploaded: 0,
        offset: 0,
        createdAt: takenAt,
      })
    }
    return deps.repository.create('photo', {
      gridId: owner.gridId,
      ownerKind: owner.kind,
      ownerId: owner.id,
      sha256,
      mime: shrunk.mime,
      width: shrunk.width,
      height: shrunk.height,
      bytes: shrunk.data.byteLength,
      takenAt,
    })
  })
}
