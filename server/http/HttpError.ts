export type ErrorCode =
  | 'invalid_request'
  | 'invalid_json'
  | 'invalid_encoding'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unauthorized'
  | 'token_expired'
  | 'invalid_credentials'
  | 'too_many_attempts'
  | 'account_disabled'
  | 'device_mismatch'
  | 'forbidden'
  | 'protocol_version'
  | 'not_found'
  | 'username_taken'
  | 'area_exists'
  | 'invalid_geometry'
  | 'overlapping_grid'
  | 'offset_mismatch'
  | 'hash_mismatch'
  | 'internal'

/** An error with its HTTP status and stable code; the error handler turns it into `{ error: { code, message, field? } }`. */
export class HttpError extends Error {
  override name = 'HttpError'
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    /** Extra response headers (Retry-After on a 429). */
    readonly headers: Readonly<Record<string, string>> = {},
    /** Extra top-level members of the error body (the held `offset` of a 409 offset_mismatch). */
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {
    super(message)
  }
}

export const forbidden = (message = '没有权限执行此操作'): HttpError =>
  new HttpError(403, 'forbidden', message)
export const notFound = (message: string): HttpError => new HttpError(404, 'not_found', message)
export const badRequest = (field: string, message: string): HttpError =>
  new HttpError(400, 'invalid_request', message, field)
