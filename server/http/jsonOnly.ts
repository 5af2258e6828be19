import type { RequestHandler } from 'express'
import { HttpError } from './HttpError.ts'

const PHOTO_CHUNK_PATH = /^\/photos\/[^/]+$/

/**
 * The API speaks JSON only: a POST, PUT or PATCH whose body is anything else (form posts included, which a page on
 * another site could send) is refused with 415 before it is read. A request without a body and content type passes.
 * The one exception: a photo chunk (PUT /photos/:sha256) is application/octet-stream. A cross-site page cannot send
 * that type without a CORS preflight, which this API never answers, so the exception opens no CSRF path.
 */
export const jsonOnly: RequestHandler = (req, _res, next) => {
  if (!['POST', 'PUT', 'PATCH'].includes(req.method)) {
    next()
    return
  }
  const type = req.get('content-type')
  const hasBody = req.get('transfer-encoding') !== undefined || Number(req.get('content-length') ?? 0) > 0
  const mediaType = type?.split(';')[0]?.trim().toLowerCase()
  const isJson = mediaType === 'application/json'
  const isPhotoChunk =
    mediaType === 'application/octet-stream' && req.method === 'PUT' && PHOTO_CHUNK_PATH.test(req.path)
  if ((type !== undefined || hasBody) && !isJson && !isPhotoChunk) {
    throw new HttpError(415, 'unsupported_media_type', '只接受 JSON 请求（Content-Type: application/json）')
  }
  next()
}
