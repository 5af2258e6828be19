/**
 * Photos on the device. A photo is shrunk (longest side ~1600 px JPEG) before anything is kept, hashed with
 * SHA-256 (its key on the server, so uploads are idempotent and resumable), and its bytes are kept as an ArrayBuffer
 * in `photoBlobs` (Safari's IndexedDB keeps ArrayBuffers reliably, Blobs less so) in the SAME transaction as the
 * `photo` record and its outbox op: there is never a photo record without its bytes on this device.
 * A photo taken in the form of a record not saved yet is `staged`: its bytes are kept at once (its form's draft lists
 * it, so it survives a reload), not uploaded, and its record is created in the transaction that saves the owner.
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

/** The device's row for a photo's bytes, as far as a thumbnail's upload state needs it. */
export interface BlobStatus {
  uploaded: boolean
  staged: boolean
  /** Bytes the server is known to hold. */
  offset: number
  bytes: number
}

/** A photo taken for a record that is not saved yet: its bytes are kept (staged), its record comes with the save. */
export interface StagedPhoto {
  sha256: string
  mime: ShrunkImage['mime']
  width: number
  height: number
  bytes: number
  takenAt: number
}

async function shrink(deps: PhotoStoreDeps, file: Blob): Promise<{ photo: StagedPhoto; data: ArrayBuffer }> {
  const shrunk = await (deps.shrinkImage ?? browserShrinkImage)(file, PHOTO_MAX_SIDE)
  const photo: StagedPhoto = {
    sha256: await sha256Hex(shrunk.data),
    mime: shrunk.mime,
    width: shrunk.width,
    height: shrunk.height,
    bytes: shrunk.data.byteLength,
    takenAt: deps.now(),
  }
  return { photo, data: shrunk.data }
}

/** A photo record now refers to these bytes: they are to be uploaded. */
function unstage(db: GridPatrolDb, sha256: string) {
  return db.photoBlobs.update(sha256, (row) => {
    delete row.staged
    row.uploaded = 0
  })
}

/** Keep the bytes (once per SHA-256); a staged row is not uploaded until a photo record refers to it. */
async function keepBytes(db: GridPatrolDb, photo: StagedPhoto, data: ArrayBuffer, staged: boolean) {
  const existing = await db.photoBlobs.get(photo.sha256)
  if (existing) {
    if (existing.staged && !staged) await unstage(db, photo.sha256)
    return
  }
  await db.photoBlobs.put({
    sha256: photo.sha256,
    mime: photo.mime,
    data,
    bytes: photo.bytes,
    offset: 0,
    createdAt: photo.takenAt,
    ...(staged ? { staged: 1 as const } : { uploaded: 0 as const }),
  })
}

function createPhotoRecord(deps: PhotoStoreDeps, photo: StagedPhoto, owner: PhotoOwner): Promise<string> {
  return deps.repository.create('photo', {
    gridId: owner.gridId,
    ownerKind: owner.kind,
    ownerId: owner.id,
    sha256: photo.sha256,
    mime: photo.mime,
    width: photo.width,
    height: photo.height,
    bytes: photo.bytes,
    takenAt: photo.takenAt,
  })
}

const photoTables = (db: GridPatrolDb) => [
  db.records,
  db.outbox,
  db.refused,
  db.meta,
  db.areas,
  db.photoBlobs,
]

/** Shrink, hash and keep a photo of `owner`; returns the id of its `photo` record. */
export async function addPhoto(deps: PhotoStoreDeps, file: Blob, owner: PhotoOwner): Promise<string> {
  const { photo, data } = await shrink(deps, file)
  return deps.db.transaction('rw', photoTables(deps.db), async () => {
    await keepBytes(deps.db, photo, data, false)
    return createPhotoRecord(deps, photo, owner)
  })
}

/** Shrink, hash and keep a photo for a record not saved yet (its form's draft lists it). */
export async function stagePhoto(deps: PhotoStoreDeps, file: Blob): Promise<StagedPhoto> {
  const { photo, data } = await shrink(deps, file)
  await deps.db.transaction('rw', deps.db.photoBlobs, () => keepBytes(deps.db, photo, data, true))
  return photo
}

/**
 * Create the photo records of staged photos now that their owner exists. Call inside the transaction that creates
 * the owner, so the record and its photos are saved together or not at all.
 */
export async function attachPhotos(
  deps: PhotoStoreDeps,
  photos: readonly StagedPhoto[],
  owner: PhotoOwner,
): Promise<string[]> {
  return deps.db.transaction('rw', photoTables(deps.db), async () => {
    const ids: string[] = []
    for (const photo of photos) {
      const row = await deps.db.photoBlobs.get(photo.sha256)
      if (!row) throw new Error(`photo bytes missing: ${photo.sha256}`)
      if (row.staged) await unstage(deps.db, photo.sha256)
      ids.push(await createPhotoRecord(deps, photo, owner))
    }
    return ids
  })
}

/**
 * Drop staged bytes nobody will attach: those of a discarded draft (`only`), or, with no `only`, every staged row no
 * draft lists any more (a form abandoned by a crash or a closed tab). Attached bytes are never touched.
 */
export async function dropStagedPhotos(db: GridPatrolDb, only?: readonly string[]): Promise<number> {
  return db.transaction('rw', db.photoBlobs, db.drafts, async () => {
    const listed = new Set<string>()
    for (const draft of await db.drafts.toArray()) {
      const photos = draft.fields['photos']
      if (!Array.isArray(photos)) continue
      for (const photo of photos) {
        const sha = (photo as { sha256?: unknown } | null)?.sha256
        if (typeof sha === 'string') listed.add(sha)
      }
    }
    const candidates = only
      ? (await db.photoBlobs.bulkGet([...only])).filter((row) => row !== undefined)
      : await db.photoBlobs.where('staged').equals(1).toArray()
    const dropped = candidates
      .filter((row) => row.staged === 1 && !listed.has(row.sha256))
      .map((row) => row.sha256)
    await db.photoBlobs.bulkDelete(dropped)
    return dropped.length
  })
}
