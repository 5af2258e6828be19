import type { ErrorRequestHandler } from 'express'
import type { Logger } from 'pino'
import type { ApiError } from '#shared/sync/protocol.ts'
import { HttpError } from './HttpError.ts'

interface BodyParserError {
  type: string
  status: number
  limit?: number
}

const isBodyParserError = (error: unknown): error is BodyParserError =>
  typeof error === 'object' &&
  error !== null &&
  typeof (error as { type?: unknown }).type === 'string' &&
  typeof (error as { status?: unknown }).status === 'number'

/** A body that did not inflate (bad gzip data, cut short): zlib's error, passed on by body-parser with status 400. */
const isInflateError = (error: unknown): boolean =>
  typeof error === 'object' &&
  error !== null &&
  typeof (error as { code?: unknown }).code === 'string' &&
  (error as { code: string }).code.startsWith('Z_')

function toHttpError(error: unknown, bodyLimit: string): HttpError | null {
  if (error instanceof HttpError) return error
  if (isInflateError(error)) {
    return new HttpError(
      400,
      'invalid_encoding',
      '请求内容的压缩数据已损坏，无法解压 (the compressed body is corrupt and could not be inflated)',
    )
  }
  if (!isBodyParserError(error)) return null
  switch (error.type) {
    case 'entity.parse.failed':
      return new HttpError(400, 'invalid_json', '请求内容不是有效的 JSON (body is not valid JSON)')
    case 'entity.too.large':
      return new HttpError(
        413,
        'payload_too_large',
        `请求内容超过上限 ${bodyLimit} (body larger than ${bodyLimit})`,
      )
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new HttpError(415, 'unsupported_media_type', '不支持的请求编码 (unsupported body encoding)')
    default:
      return error.status >= 400 && error.status < 500
        ? new HttpError(400, 'invalid_request', '请求无效 (invalid request)')
        : null
  }
}

/** Every error leaves as JSON `{ error: { code, message, field? } }`; unexpected ones are logged, never shown. */
export function errorHandler(logger: Logger, bodyLimit: string): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error)
      return
    }
    const known = toHttpError(error, bodyLimit)
    if (!known) logger.error({ err: error, method: req.method, path: req.path }, 'unhandled error')
    const http = known ?? new HttpError(500, 'internal', '服务器内部错误 (internal server error)')
    const body: ApiError & Record<string, unknown> = {
      ...http.extra,
      error: {
        code: http.code,
        message: http.message,
        ...(http.field === undefined ? {} : { field: http.field }),
      },
    }
    for (const [name, value] of Object.entries(http.headers)) res.setHeader(name, value)
    res.status(http.status).json(body)
  }
}
