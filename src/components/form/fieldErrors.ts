import { recordSchemas, type RecordKind } from '#shared/schemas/records.ts'

type Translate = (key: string, named?: Record<string, unknown>) => string

/** A schema message (written in Chinese in the shared schemas) in the current language. */
export function translateMessage(
  message: string,
  t: Translate,
  issue?: { code: string; expected?: unknown; origin?: unknown },
): string {
  const code = issue?.code
  if (message === '不能为空') return t('errors.required')
  if (message === '手机号应为11位数字') return t('errors.phone')
  if (message === '网格编码应为15位数字') return t('errors.gridId')
  const max = /^最多(\d+)个字$/.exec(message)
  if (max) return t('errors.maxLength', { max: Number(max[1]) })
  if (code === 'invalid_value') return t('errors.choose')
  if (issue?.expected === 'number' || issue?.expected === 'int' || issue?.origin === 'number')
    return t('errors.number')
  if (code !== undefined) return /[\u4e00-\u9fff]/.test(message) ? message : t('errors.invalid')
  return message
}

/** Every field's first problem, keyed by top-level field name, for showing next to each field at once. */
export function fieldErrors(
  kind: RecordKind,
  fields: Record<string, unknown>,
  t: Translate,
): Record<string, string> {
  const result = recordSchemas[kind].safeParse(fields)
  const errors: Record<string, string> = {}
  if (result.success) return errors
  for (const issue of result.error.issues) {
    const field = issue.code === 'unrecognized_keys' ? (issue.keys[0] ?? '') : String(issue.path[0] ?? '')
    if (!(field in errors)) errors[field] = translateMessage(issue.message, t, issue)
  }
  return errors
}

/** Field equality for building a patch: null and missing are the same; points compare by value. */
export function sameValue(a: unknown, b: unknown): boolean {
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null)
    return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b))
  return a === b
}

function sortKeys(value: object): unknown {
  return Object.fromEntries(Object.entries(value).sort(([x], [y]) => (x < y ? -1 : 1)))
}
