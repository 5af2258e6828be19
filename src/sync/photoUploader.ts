/**
 * Uploads the photo bytes kept on the device, keyed by SHA-256 (PUT /api/photos/:sha256?size=N&offset=K, HEAD for
 * what the server holds). Resumable: it starts from HEAD's Upload-Offset and follows the 409's `offset`, and keeps
 * the server's offset in `photoBlobs` after every chunk. Idempotent: a complete photo answers complete at once.
 * A blob is marked uploaded only when the server says complete, and its bytes are never dropped here.
 */
import type { GridPatrolDb, PhotoBlobRow } from '../db/GridPatrolDb.ts'

export interface PhotoProgress {
  sha256: string
  sent: number
  total: number
}

export interface PhotoUploaderDeps {
  db: GridPatrolDb
  /** The current access token, or null when nobody is logged in. */
  token: () => Promise<string | null>
  fetch?: typeof globalThis.fetch
  baseUrl?: string
  chunkSize?: number
  /** Per request (default 60 s). */
  timeoutMs?: number
  onProgress?: (progress: PhotoProgress) => void
}

export interface UploadSummary {
  uploaded: number
  failed: number
}

export const PHOTO_CHUNK_BYTES = 256 * 1024
/** Rounds of PUT per photo before giving up until the next run (a server that keeps answering 409). */
const MAX_ROUNDS = 1000

class UploadStop extends Error {
  override name = 'UploadStop'
}

export function createPhotoUploader(deps: PhotoUploaderDeps) {
  const { db } = deps
  const base = (deps.baseUrl ?? '').replace(/\/$/, '')
  const chunkSize = deps.chunkSize ?? PHOTO_CHUNK_BYTES
  const timeoutMs = deps.timeoutMs ?? 60_000
  // A hung request must not hold the sync run (which awaits the uploads) forever.
  const doFetch = (input: string, init: RequestInit) =>
    (deps.fetch ?? globalThis.fetch)(input, {
      ...init,
      signal: typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(timeoutMs) : null,
    })
  let running: Promise<UploadSummary> | null = null

  async function headers(extra: Record<string, string> = {}): Promise<Record<string, string>> {
    const token = await deps.token()
    if (!token) throw new UploadStop('not logged in')
    return { Authorization: `Bearer ${token}`, ...extra }
  }

  async function heldByServer(sha256: string): Promise<{ complete: boolean; offset: number }> {
    const response = await doFetch(`${base}/api/photos/${sha256}`, {
      method: 'HEAD',
      headers: await headers(),
    })
    if (response.status === 200) return { complete: true, offset: 0 }
    if (response.status === 401) throw new UploadStop('unauthorized')
    // A partial upload answers 404 (or a 2xx) with the bytes held in Upload-Offset; an unknown photo has none.
    const header = response.headers.get('Upload-Offset')
    const offset = header === null ? 0 : Number(header)
    if ((response.ok || response.status === 404) && Number.isInteger(offset) && offset >= 0) {
      return { complete: false, offset }
    }
    throw new Error(`HEAD ${response.status}`)
  }

  async function uploadOne(row: PhotoBlobRow): Promise<void> {
    const total = row.data.byteLength
    const report = (sent: number) => deps.onProgress?.({ sha256: row.sha256, sent, total })
    const held = await heldByServer(row.sha256)
    let offset = held.offset
    let complete = held.complete
    for (let round = 0; !complete && round < MAX_ROUNDS; round++) {
      report(offset)
      const chunk = row.data.slice(offset, Math.min(total, offset + chunkSize))
      const response = await doFetch(`${base}/api/photos/${row.sha256}?size=${total}&offset=${offset}`, {
        method: 'PUT',
        headers: await headers({ 'Content-Type': 'application/octet-stream' }),
        body: chunk,
      })
      const payload = (await response.json().catch(() => ({}))) as {
        complete?: boolean
        offset?: number
        error?: { code?: string }
      }
      if (response.status === 409 && typeof payload.offset === 'number') {
        offset = payload.offset
      } else if (response.status === 401) {
        throw new UploadStop('unauthorized')
      } else if (!response.ok) {
        throw new Error(`PUT ${response.status} ${payload.error?.code ?? ''}`)
      } else if (payload.complete === true) {
        complete = true
        break
      } else if (typeof payload.offset === 'number') {
        offset = payload.offset
      } else {
        throw new Error('unexpected upload answer')
      }
      await db.photoBlobs.update(row.sha256, { offset })
    }
    if (!complete) throw new Error('upload did not complete')
    await db.photoBlobs.update(row.sha256, { uploaded: 1, offset: total })
    report(total)
  }

  async function runOnce(): Promise<UploadSummary> {
    const summary: UploadSummary = { uploaded: 0, failed: 0 }
    const pending = await db.photoBlobs.where('uploaded').equals(0).primaryKeys()
    for (const sha256 of pending) {
      const row = await db.photoBlobs.get(sha256)
      if (!row || row.uploaded !== 0) continue
      try {
        await uploadOne(row)
        summary.uploaded++
      } catch (error) {
        summary.failed++
        if (error instanceof UploadStop) break
      }
    }
    return summary
  }

  return {
    /** Upload every pending photo; concurrent calls share one run. */
    uploadPending(): Promise<UploadSummary> {
      running ??= runOnce().finally(() => {
        running = null
      })
      return running
    },
    /** How many photos still wait for upload. */
    pendingCount: () => db.photoBlobs.where('uploaded').equals(0).count(),
  }
}

export type PhotoUploader = ReturnType<typeof createPhotoUploader>
