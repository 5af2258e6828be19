/**
 * What a photo thumbnail says about its bytes: 待上传, 上传中 n%, 已上传. The sync store reports the photo being
 * uploaded (its progress) and how many photos still wait; a photo is uploaded once its progress reached its size or
 * no photo waits any more.
 */
export type PhotoUploadState =
  { state: 'pending' } | { state: 'uploading'; percent: number } | { state: 'uploaded' }

export interface UploadProgress {
  sha256: string
  sent: number
  total: number
}

export function photoUploadState(
  sha256: string,
  progress: UploadProgress | null,
  pendingPhotos: number,
  completed: ReadonlySet<string>,
): PhotoUploadState {
  if (completed.has(sha256) || pendingPhotos === 0) return { state: 'uploaded' }
  if (progress && progress.sha256 === sha256) {
    if (progress.total > 0 && progress.sent >= progress.total) return { state: 'uploaded' }
    const percent = progress.total > 0 ? Math.floor((progress.sent / progress.total) * 100) : 0
    return { state: 'uploading', percent }
  }
  return { state: 'pending' }
}
