export type ErrorCode =
  | 'invalid_request'
  | 'invalid_json'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unauthorized'
  | 'invalid_credentials'
  | 'protocol_version'
  | 'not_found'
  | 'internal'

/** An error with its HTTP status and stable code; the error handler turns it into `{ error: { code, message, field? } }`. */
export class HttpError extends Error {
  override name = 'HttpError'
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message)
  }
}
