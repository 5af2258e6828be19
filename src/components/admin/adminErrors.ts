/**
 * Where an admin API error is shown: next to the field it names (e.g. the overlapping grid's name next to the
 * polygon), else above the form. Server messages are Chinese and name the field or the other grid, so they are shown
 * as they are; only codes the device makes itself (offline, network) are worded by i18n.
 */
type Translate = (key: string, named?: Record<string, unknown>) => string
type Has = (key: string) => boolean

export interface PlacedError {
  /** The form field (top-level name), or null for an error about the whole request. */
  field: string | null
  message: string
}

export function placeAdminError(
  error: unknown,
  fields: readonly string[],
  t: Translate,
  te: Has,
): PlacedError {
  const { code, message, field } = (error ?? {}) as { code?: unknown; message?: unknown; field?: unknown }
  const top = typeof field === 'string' ? (field.split(/[.[]/)[0] ?? '') : ''
  const text =
    typeof code === 'string' && te(`admin.errors.${code}`)
      ? t(`admin.errors.${code}`)
      : typeof message === 'string' && message
        ? message
        : t('common.unknownError')
  return { field: fields.includes(top) ? top : null, message: text }
}
