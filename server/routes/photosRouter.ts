import express, { Router } from 'express'
import type { ErrorRequestHandler } from 'express'
import { z } from 'zod'
import { HttpError } from '../http/HttpError.ts'
import { parseWith } from '../http/parseWith.ts'
import { sessionOf } from '../http/requestContext.ts'
import { MAX_CHUNK_BYTES, MAX_PHOTO_BYTES } from '../services/photoService.ts'
import type { RouteDeps } from './RouteDeps.ts'

const paramsSchema = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 应为64位小写十六进制') })
const putQuerySchema = z.strictObject({
  size: z.coerce.number().int().min(1).max(MAX_PHOTO_BYTES, '照片最大 20 MiB'),
  offset: z.coerce.number().int().min(0).max(MAX_PHOTO_BYTES),
})
/** Content-addressed: the bytes behind a sha256 never change. Private: they are read under a login and a scope. */
const IMMUTABLE = 'private, max-age=31536000, immutable'

/** A chunk over 1 MiB: say so with the chunk limit, not the JSON body limit. */
const chunkTooLarge: ErrorRequestHandler = (error: unknown, req, _res, next) => {
  const type = (error as { type?: unknown } | null)?.type
  if (type === 'entity.too.large' && req.path.startsWith('/photos/')) {
    next(
      new HttpError(413, 'payload_too_large', `每段最多 ${MAX_CHUNK_BYTES} 字节 (chunk larger than 1 MiB)`),
    )
    return
  }
  next(error)
}

/**
 * Photo bytes: resumable, idempotent upload in chunks (PUT, HEAD) and scoped, cacheable reads (GET). The records
 * that point at a photo sync like every other record; see services/photoService.ts for the invariants.
 */
export function photosRouter({ photos, now, authenticated }: RouteDeps): Router {
  const router = Router()
  router.put(
    '/photos/:sha256',
    authenticated,
    express.raw({ type: 'application/octet-stream', limit: MAX_CHUNK_BYTES }),
    async (req, res) => {
      const { sha256 } = parseWith(paramsSchema, req.params, 'params')
      const { size, offset } = parseWith(putQuerySchema, req.query, 'query')
      const chunk = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
      const result = await photos.putChunk(sessionOf(res).user, sha256, size, offset, chunk, now())
      res.setHeader('Upload-Offset', String(result.complete ? size : result.offset))
      res.json(result)
    },
  )
  // Registered before GET, which would otherwise answer HEAD too.
  router.head('/photos/:sha256', authenticated, async (req, res) => {
    const { sha256 } = parseWith(paramsSchema, req.params, 'params')
    const found = await photos.state(sessionOf(res).user, sha256)
    if (found.state === 'complete') {
      res.setHeader('Upload-Offset', String(found.bytes))
      res.setHeader('Upload-Length', String(found.bytes))
      res.status(200).end()
      return
    }
    if (found.state === 'partial') {
      res.setHeader('Upload-Offset', String(found.held))
      res.setHeader('Upload-Length', String(found.bytes))
    }
    res.status(404).end()
  })
  for (const [path, variant] of [
    ['/photos/:sha256', 'original'],
    ['/photos/:sha256/thumb', 'thumb'],
  ] as const) {
    router.get(path, authenticated, async (req, res, next) => {
      const { sha256 } = parseWith(paramsSchema, req.params, 'params')
      const file = await photos.file(sessionOf(res).user, sha256, variant)
      res.setHeader('Cache-Control', IMMUTABLE)
      res.setHeader('Content-Type', file.mime)
      res.sendFile(
        file.path,
        {
          cacheControl: false,
          lastModified: false,
          dotfiles: 'allow',
          headers: { ETag: `"${sha256}-${variant}"` },
        },
        (error) => {
          if (error) next(error)
        },
      )
    })
  }
  router.use(chunkTooLarge)
  return router
}
