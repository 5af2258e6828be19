import { RECORD_KINDS, type RecordKind } from '#shared/schemas/records.ts'

type Translate = (key: string) => string
type Has = (key: string) => boolean

/** The label of a record field in the current language, or the raw name when none is known. */
export function fieldLabel(kind: string, field: string, t: Translate, te: Has): string {
  if (field === 'gridId') return t('form.gridId')
  if (field === 'location' || field.startsWith('location.')) return t('form.location')
  if ((RECORD_KINDS as readonly string[]).includes(kind)) {
    const key = `fields.${kind as RecordKind}.${field}`
    if (te(key)) return t(key)
  }
  // The closed loop's step fields (incidents): their labels live with the workflow's strings.
  if (kind === 'incident' && te(`loop.fields.${field}`)) return t(`loop.fields.${field}`)
  return field
}
