/**
 * A displayable URL for a photo: an object URL of the bytes kept on this device when present, else the server's
 * thumbnail or original fetched with the access token (the photo routes need auth, so a plain <img src> would not
 * do). The caller revokes the URL (URL.revokeObjectURL) when the image is gone.
 */
import type { GridPatrolDb } from '../db/GridPatrolDb.ts'

export interface PhotoUrlDeps {
  db: GridPatrolDb
  token: () => Promise<string | null>
  fetch?: typeof globalThis.fetch
  baseUrl?: string
}

export async function photoUrl(
  deps: PhotoUrlDeps,
  sha256: string,
  variant: 'thumb' | 'original' = 'thumb',
): Promise<string | null> {
  const local = await deps.db.photoBlobs.get(sha256)
  if (local) return URL.createObjectURL(new Blob([local.data], { type: local.mime }))
  const token = await deps.token()
  if (!token) return null
  const path = `${(deps.baseUrl ?? '').replace(/\/$/, '')}/api/photos/${sha256}${variant === 'thumb' ? '/thumb' : ''}`
  try {
    const response = await (deps.fetch ?? globalThis.fetch)(path, {
      headers: { Authorization: `Bearer ${token}` },
    })
    if (!response.ok) return null
    return URL.createObjectURL(await response.blob())
  } catch {
    return null
  }
}
