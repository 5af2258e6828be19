import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { appendFile, mkdir, readdir, rename, rm, stat, truncate } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import sharp from 'sharp'
import { canOnRecords, coversScope } from '#shared/domain/permissions.ts'
import { HttpError, badRequest, forbidden, notFound } from '../http/HttpError.ts'
import type { SyncStore, User } from '../store/SyncStore.ts'

/** The largest photo the server accepts, and the largest chunk of one request. */
export const MAX_PHOTO_BYTES = 20 * 1024 * 1024
export const MAX_CHUNK_BYTES = 1024 * 1024
/** Longest side of a thumbnail, in pixels, and its JPEG quality. */
export const THUMB_SIZE = 320
const THUMB_QUALITY = 70
const MIME_OF_FORMAT: Readonly<Record<string, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
}

export type PutChunkResult = { complete: true } | { complete: false; offset: number }

/** HEAD: `complete` (200), `partial` with the bytes held, or `unknown` (both 404). */
export type PhotoState =
  | { state: 'complete'; bytes: number }
  | { state: 'partial'; held: number; bytes: number }
  | { state: 'unknown' }

export interface PhotoFile {
  path: string
  mime: string
}

export interface PhotoService {
  putChunk(
    user: User,
    sha256: string,
    size: number,
    offset: number,
    chunk: Buffer,
    now: number,
  ): Promise<PutChunkResult>
  state(user: User, sha256: string): Promise<PhotoState>
  /** The file to send, when a photo record with this sha256 is in the user's scope and the bytes are complete. */
  file(user: User, sha256: string, variant: 'original' | 'thumb'): Promise<PhotoFile>
  /**
   * Drop partial uploads no chunk reached for ABANDONED_UPLOAD_MS (a phone lost or wiped mid-upload): their bytes and
   * their row. Runs by itself at most hourly from uploads; returns how many were dropped.
   */
  sweepAbandoned(now: number): Promise<number>
}

/** A partial upload untouched this long is abandoned: a phone that comes back later starts that photo again. */
export const ABANDONED_UPLOAD_MS = 7 * 24 * 3600_000
const SWEEP_EVERY_MS = 3600_000

/** Where a photo's files live under `root` (DATA_DIR/photos). */
export function photoPaths(root: string, sha256: string) {
  const dir = join(root, sha256.slice(0, 2))
  return {
    partial: join(root, 'partial', sha256),
    original: join(dir, sha256),
    thumb: join(dir, `${sha256}.thumb.jpg`),
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0
    throw error
  }
}

function sha256Of(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256')
    createReadStream(path)
      .on('error', reject)
      .on('data', (data) => hash.update(data))
      .on('end', () => resolve(hash.digest('hex')))
  })
}

/**
 * Photo bytes, uploaded separately from their records, keyed and verified by their SHA-256 (content-addressed, so
 * an upload is idempotent and the files never change).
 *
 * Invariants:
 * - The bytes held of a partial upload are the length of DATA_DIR/photos/partial/<sha>; a chunk is appended only at
 *   exactly that offset (else 409 with the held offset), so a retried or interrupted chunk can never leave a gap or
 *   a doubled range.
 * - Every read-modify-write of one sha runs under a per-sha lock (the server is one process), so two uploads of the
 *   same photo are serialised: the second sees the first's offset, or the completed photo.
 * - A photo is complete only once its SHA-256 matched and its original and thumbnail are in place; the row's
 *   `complete` flag is set last. A wrong hash drops the partial and the row: nothing unverified is kept.
 * - Who may read the bytes is decided by the photo records (kind 'photo') in the caller's scope, never by who uploaded.
 */
export function createPhotoService({ store, root }: { store: SyncStore; root: string }): PhotoService {
  const locks = new Map<string, Promise<unknown>>()
  function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = locks.get(key) ?? Promise.resolve()
    const run = previous.then(fn, fn)
    const tail = run.catch(() => undefined)
    locks.set(key, tail)
    void tail.then(() => {
      if (locks.get(key) === tail) locks.delete(key)
    })
    return run
  }

  const mayUpload = (user: User) => {
    if (!canOnRecords(user.role, 'create', 'photo')) throw forbidden('你的角色不能上传照片')
  }

  async function drop(sha256: string): Promise<void> {
    await rm(photoPaths(root, sha256).partial, { force: true })
    await store.deletePhoto(sha256)
  }

  /** Verify the held bytes, store the original and its thumbnail, mark the row complete. */
  async function complete(user: User, sha256: string, size: number, now: number): Promise<void> {
    const paths = photoPaths(root, sha256)
    if ((await sha256Of(paths.partial)) !== sha256) {
      await drop(sha256)
      throw new HttpError(400, 'hash_mismatch', '照片内容与其 SHA-256 不符，已丢弃，请重新上传', 'sha256')
    }
    let format: string
    let width: number
    let height: number
    try {
      const meta = await sharp(paths.partial).metadata()
      format = meta.format
      width = meta.autoOrient.width
      height = meta.autoOrient.height
    } catch {
      format = ''
      width = 0
      height = 0
    }
    const mime = MIME_OF_FORMAT[format]
    if (!mime) {
      await drop(sha256)
      throw badRequest('body', '不是可识别的照片（只接受 JPEG、PNG、WebP）')
    }
    await mkdir(dirname(paths.original), { recursive: true })
    const thumbTemp = `${paths.thumb}.tmp`
    await sharp(paths.partial)
      .autoOrient()
      .resize({ width: THUMB_SIZE, height: THUMB_SIZE, fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: THUMB_QUALITY })
      .toFile(thumbTemp)
    await rename(thumbTemp, paths.thumb)
    await rename(paths.partial, paths.original)
    await store.savePhoto({
      sha256,
      bytes: size,
      mime,
      width,
      height,
      createdAt: now,
      uploadedBy: user.id,
      complete: true,
    })
  }

  let lastSweep = 0
  async function sweepAbandoned(now: number): Promise<number> {
    lastSweep = now
    const names = await readdir(join(root, 'partial')).catch(() => [] as string[])
    let dropped = 0
    for (const name of names) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue
      await withLock(name, async () => {
        const path = photoPaths(root, name).partial
        // The file's modification time is the last chunk's arrival (checked again under the photo's lock).
        const modified = await stat(path).then(
          (info) => info.mtimeMs,
          () => null,
        )
        if (modified === null || now - modified < ABANDONED_UPLOAD_MS) return
        const row = await store.getPhoto(name)
        if (row?.complete) return
        await drop(name)
        dropped++
      })
    }
    return dropped
  }

  return {
    sweepAbandoned,

    putChunk(user, sha256, size, offset, chunk, now) {
      mayUpload(user)
      if (now - lastSweep >= SWEEP_EVERY_MS) void sweepAbandoned(now).catch(() => undefined)
      return withLock(sha256, async (): Promise<PutChunkResult> => {
        const row = await store.getPhoto(sha256)
        if (row?.complete) return { complete: true }
        const paths = photoPaths(root, sha256)
        let held = await sizeOf(paths.partial)
        if (row && row.bytes !== size) {
          // A new announced size restarts the upload; mid-way it is a client error.
          if (offset !== 0) badSize(row.bytes)
          await truncate(paths.partial, 0).catch(() => undefined)
          held = 0
        }
        if (offset !== held) {
          throw new HttpError(
            409,
            'offset_mismatch',
            `服务器已有 ${held} 字节，请从该处继续上传`,
            'offset',
            { 'Upload-Offset': String(held) },
            { offset: held },
          )
        }
        if (offset + chunk.length > size) {
          throw badRequest('size', `这一段超出了照片的大小（${size} 字节）`)
        }
        if (!row || row.bytes !== size) {
          await store.savePhoto({
            sha256,
            bytes: size,
            mime: null,
            width: null,
            height: null,
            createdAt: now,
            uploadedBy: user.id,
            complete: false,
          })
        }
        await mkdir(dirname(paths.partial), { recursive: true })
        await appendFile(paths.partial, chunk)
        const next = offset + chunk.length
        if (next < size) return { complete: false, offset: next }
        await complete(user, sha256, size, now)
        return { complete: true }
      })
    },

    state(user, sha256) {
      mayUpload(user)
      return withLock(sha256, async (): Promise<PhotoState> => {
        const row = await store.getPhoto(sha256)
        if (!row) return { state: 'unknown' }
        if (row.complete) return { state: 'complete', bytes: row.bytes }
        return { state: 'partial', held: await sizeOf(photoPaths(root, sha256).partial), bytes: row.bytes }
      })
    },

    async file(user, sha256, variant) {
      if (!canOnRecords(user.role, 'read', 'photo')) throw forbidden('你的角色不能查看照片')
      const scopes = await store.photoRecordScopes(sha256)
      const row = await store.getPhoto(sha256)
      if (!row?.complete || !scopes.some((scope) => coversScope(user.areaIds, scope))) {
        throw notFound('没有这张照片，或它不在你的负责范围内')
      }
      const paths = photoPaths(root, sha256)
      return variant === 'thumb'
        ? { path: paths.thumb, mime: 'image/jpeg' }
        : { path: paths.original, mime: row.mime ?? 'application/octet-stream' }
    },
  }
}

function badSize(held: number): never {
  throw badRequest('size', `照片大小与已上传的部分不符（${held} 字节）`)
}
