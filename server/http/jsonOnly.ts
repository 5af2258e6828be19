import type { RequestHandler } from 'express'
import { HttpError } from './HttpError.ts'

/**
 * The API speaks JSON only: a POST, PUT or PATCH whose body is anything else (form posts included, which a page on
 * another site could send) is refused with 415 before it is read. A request without a body and content type passes.
 */
export const jsonOnly: RequestHandler = (req, _res, next) => {
  if (!['POST', 'PUT', 'PATCH'].includes(req.method)) {
    next()
    return
  }
  const type = req.get('content-type')
  const hasBody = req.get('transfer-encoding') !== undefined || Number(req.get('content-length') ?? 0) > 0
  const isJson = type?.split(';')[0]?.trim().toLowerCase() === 'application/json'
  if ((type !== undefined || hasBody) && !isJson) {
    throw new HttpError(415, 'unsupported_media_type', '只接受 JSON 请求（Content-Type: application/json）')
  }
  next()
}
