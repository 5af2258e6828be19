/**
 * What a photo thumbnail says about its bytes, from the device's own row for them (exact per photo, not inferred):
 * 保存后上传 (staged in the form of an unsaved record), 待上传, 上传中 n% (this photo is uploading now), 已传 n% (part
 * of it is on the server; the rest goes on the next sync), 已上传. No row: the photo came from the server.
 */
import type { BlobStatus } from '../../stores/useRecordsStore.ts'

export type PhotoUploadState =
  | { state: 'staged' }
  | { state: 'pending' }
  | { state: 'uploading'; percent: number }
  | { state: 'partial'; percent: number }
  | { state: 'uploaded' }

export interface UploadProgress {
  sha256: string
  sent: number
  total: number
}

const percentOf = (part: number, whole: number) =>
  whole > 0 ? Math.min(99, Math.floor((part / whole) * 100)) : 0

export function photoUploadState(
  sha256: string,
  blob: BlobStatus | undefined,
  progress: UploadProgress | null,
): PhotoUploadState {
  if (!blob || blob.uploaded) return { state: 'uploaded' }
  if (blob.staged) return { state: 'staged' }
  if (progress && progress.sha256 === sha256 && progress.total > 0) {
    return { state: 'uploading', percent: percentOf(progress.sent, progress.total) }
  }
  if (blob.offset > 0) return { state: 'partial', percent: percentOf(blob.offset, blob.bytes) }
  return { state: 'pending' }
}
