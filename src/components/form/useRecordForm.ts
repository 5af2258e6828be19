/**
 * What the three record forms share: validate against the shared schema (every field's error shown next to it),
 * create with exactly the schema's fields, or on edit send only the fields that changed (the store stamps them).
 *
 * A masked value (a phone the server hid from this role, e.g. `138****1234`) is never sent back: the form shows it
 * as the empty input's placeholder, and an empty input means "keep what the server has" — the field is validated as
 * absent and left out of the patch. Only a number the user typed is sent.
 */
import { computed, reactive, ref } from 'vue'
import { storeToRefs } from 'pinia'
import { useI18n } from 'vue-i18n'
import { showConfirmDialog, showToast } from 'vant'
import { validateFields, type RecordKind } from '#shared/schemas/records.ts'
import { canOnRecords } from '#shared/domain/permissions.ts'
import { SENSITIVE_FIELDS, isMaskedValue } from '#shared/domain/privacy.ts'
import { useRecordsStore } from '../../stores/useRecordsStore.ts'
import { useSessionStore } from '../../stores/useSessionStore.ts'
import { fieldErrors, sameValue, translateMessage } from './fieldErrors.ts'

/** The part of a stored record a form reads. */
export interface EditableRecord {
  id: string
  kind: RecordKind
  fields: Record<string, unknown>
}

export type SaveOutcome = 'created' | 'updated' | 'unchanged'

export interface RecordFormOptions {
  kind: RecordKind
  record: () => EditableRecord | null | undefined
  /** All of the schema's fields, built from the form's draft. */
  build: () => Record<string, unknown>
  onSaved: (id: string, outcome: SaveOutcome) => void
  onDeleted: (id: string) => void
}

/** The sensitive fields of `record` that hold a masked value the user left empty in `full`: they are kept as is. */
export function keptMaskedFields(
  kind: RecordKind,
  record: EditableRecord | null | undefined,
  full: Record<string, unknown>,
): string[] {
  if (!record) return []
  return Object.keys(SENSITIVE_FIELDS[kind]).filter(
    (field) =>
      isMaskedValue(record.fields[field]) &&
      (full[field] === null || full[field] === '' || isMaskedValue(full[field])),
  )
}

export function useRecordForm(options: RecordFormOptions) {
  const { t } = useI18n()
  const records = useRecordsStore()
  const { user } = storeToRefs(useSessionStore())
  const errors = reactive<Record<string, string | undefined>>({})
  const saving = ref(false)
  const isEdit = computed(() => Boolean(options.record()))
  /** The role may delete this kind (a worker may not delete incidents; the server would refuse it anyway). */
  const canDelete = computed(
    () => isEdit.value && Boolean(user.value && canOnRecords(user.value.role, 'delete', options.kind)),
  )

  function showErrors(next: Record<string, string>) {
    for (const key of Object.keys(errors)) errors[key] = undefined
    Object.assign(errors, next)
  }

  function showStoreError(error: unknown) {
    const field = (error as { field?: unknown } | null)?.field
    const message = error instanceof Error ? error.message : String(error)
    if (typeof field === 'string' && field) showErrors({ [field]: translateMessage(message, t) })
    else showToast({ type: 'fail', message: message || t('common.unknownError') })
  }

  async function save() {
    if (saving.value) return
    const record = options.record()
    const full = options.build()
    const kept = keptMaskedFields(options.kind, record, full)
    for (const field of kept) full[field] = null
    const problems = fieldErrors(options.kind, full, t)
    showErrors(problems)
    if (Object.keys(problems).length > 0) return
    const checked = validateFields(options.kind, full, 'create')
    if (!checked.ok) {
      showErrors({ [checked.issue.field]: translateMessage(checked.issue.message, t) })
      return
    }
    saving.value = true
    try {
      if (!record) {
        const id = await records.create(options.kind, checked.fields)
        options.onSaved(id, 'created')
        return
      }
      const patch: Record<string, unknown> = {}
      for (const [field, value] of Object.entries(checked.fields))
        if (!kept.includes(field) && !sameValue(value, record.fields[field])) patch[field] = value ?? null
      if (Object.keys(patch).length === 0) {
        options.onSaved(record.id, 'unchanged')
        return
      }
      await records.update(options.kind, record.id, patch)
      options.onSaved(record.id, 'updated')
    } catch (error) {
      showStoreError(error)
    } finally {
      saving.value = false
    }
  }

  async function remove() {
    const record = options.record()
    if (!record || saving.value) return
    try {
      await showConfirmDialog({
        message: t('form.deleteConfirm'),
        confirmButtonText: t('common.delete'),
        confirmButtonColor: '#ee0a24',
        cancelButtonText: t('common.cancel'),
      })
    } catch {
      return // cancelled
    }
    saving.value = true
    try {
      await records.remove(options.kind, record.id)
      options.onDeleted(record.id)
    } catch (error) {
      showStoreError(error)
    } finally {
      saving.value = false
    }
  }

  return { errors, saving, isEdit, canDelete, save, remove }
}
