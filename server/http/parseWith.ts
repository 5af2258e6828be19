import type { z } from 'zod'
import { HttpError } from './HttpError.ts'

/** Parse a request part with a shared schema; the first issue becomes a 400 naming its field. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, where = 'body'): z.infer<T> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const path = issue?.path.map(String) ?? []
  if (issue?.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path.push(issue.keys[0])
  const field = path.join('.')
  const message = issue?.message ?? 'invalid'
  throw new HttpError(
    400,
    'invalid_request',
    field ? `${field}: ${message}` : `${where}: ${message}`,
    field || where,
  )
}
