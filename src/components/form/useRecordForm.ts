/**
 * What the three record forms share: validate against the shared schema (every field's error shown next to it),
 * create with exactly the schema's fields, or on edit send only the fields that changed (the store stamps them).
 *
 * A masked value (a phone the server hid from this role, e.g. `138****1234`) is never sent back: the form shows it
 * as the empty input's placeholder, and an empty input means "keep what the server has" — the field is validated as
 * absent and left out of the patch. Only a number the user typed is sent.
 */
import { computed, inject, onBeforeUnmount, onMounted, reactive, ref, watch } from 'vue'
import { routerKey } from 'vue-router'
import { storeToRefs } from 'pinia'
import { useI18n } from 'vue-i18n'
import { showConfirmDialog, showToast } from 'vant'
import { validateFields, type RecordKind } from '#shared/schemas/records.ts'
import { canOnRecords } from '#shared/domain/permissions.ts'
import { SENSITIVE_FIELDS, isMaskedValue } from '#shared/domain/privacy.ts'
import { useRecordsStore, type StagedPhoto } from '../../stores/useRecordsStore.ts'
import { useSessionStore } from '../../stores/useSessionStore.ts'
import { describeRecord } from '../records/describeRecord.ts'
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
  /**
   * The form's reactive draft, autosaved (debounced) under `draftKey` as the user types and restored when the form
   * reopens, so a half-filled form survives a reload or a crash; cleared once saved or deleted.
   */
  draft?: Record<string, unknown>
  draftKey?: () => string
  /**
   * Photos taken before the record's first save (kept in the draft, so they survive a reload): saved with the record
   * in one transaction; dropped when the draft is discarded.
   */
  stagedPhotos?: () => readonly StagedPhoto[]
}

/** How long typing must pause before the draft is written (each write is one small IndexedDB put). */
export const DRAFT_DEBOUNCE_MS = 400

/** Fields whose change on an edit is worth a duplicate check (a create is always checked). */
const DUPLICATE_FIELDS = ['idNumber', 'address', 'houseNumber']

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

  const router = inject(routerKey, null)
  const restored = ref(false)
  let draftTimer: ReturnType<typeof setTimeout> | null = null
  let draftReady = false
  const initialDraft = options.draft
    ? (JSON.parse(JSON.stringify(options.draft)) as Record<string, unknown>)
    : null

  function writeDraft() {
    if (draftTimer) clearTimeout(draftTimer)
    draftTimer = null
    if (!options.draft || !options.draftKey) return Promise.resolve()
    return records.saveDraft(options.draftKey(), { ...options.draft }).catch(() => undefined)
  }

  async function dropDraft() {
    if (draftTimer) clearTimeout(draftTimer)
    draftTimer = null
    restored.value = false
    if (options.draftKey) await records.clearDraft(options.draftKey()).catch(() => undefined)
  }

  /** Forget the restored draft (and the photos it staged) and go back to what the form first showed. */
  async function discardDraft() {
    const staged = options.stagedPhotos?.().map((photo) => photo.sha256) ?? []
    if (options.draft && initialDraft) Object.assign(options.draft, JSON.parse(JSON.stringify(initialDraft)))
    await dropDraft()
    if (staged.length) await records.dropStaged(staged).catch(() => undefined)
  }

  if (options.draft && options.draftKey) {
    const draft = options.draft
    onMounted(async () => {
      const saved = await records.loadDraft(options.draftKey!()).catch(() => null)
      if (saved) {
        for (const [key, value] of Object.entries(saved)) if (key in draft) draft[key] = value
        restored.value = true
      }
      draftReady = true
    })
    watch(
      () => JSON.stringify(draft),
      () => {
        if (!draftReady || saving.value) return
        if (draftTimer) clearTimeout(draftTimer)
        draftTimer = setTimeout(() => void writeDraft(), DRAFT_DEBOUNCE_MS)
      },
    )
    // Leaving the form (or the page being hidden) writes a pending draft at once.
    const flushOnHide = () => {
      if (draftTimer) void writeDraft()
    }
    onMounted(() => globalThis.addEventListener?.('pagehide', flushOnHide))
    onBeforeUnmount(() => {
      globalThis.removeEventListener?.('pagehide', flushOnHide)
      flushOnHide()
    })
  }

  /** Asks before saving a likely duplicate; false when the user chose to look at the existing record instead. */
  async function confirmNotDuplicate(
    fields: Record<string, unknown>,
    record: EditableRecord | null | undefined,
    patch?: Record<string, unknown>,
  ): Promise<boolean> {
    if (options.kind !== 'person' && options.kind !== 'household') return true
    if (patch && !DUPLICATE_FIELDS.some((field) => field in patch)) return true
    const found = await records.duplicatesOf(options.kind, fields, record?.id).catch(() => [])
    const existing = found[0]
    if (!existing) return true
    const reason = options.kind === 'person' ? t('duplicate.sameId') : t('duplicate.sameAddress')
    const what = `${describeRecord(existing.kind, existing.fields, t).title}（${reason}）`
    try {
      await showConfirmDialog({
        title: t('duplicate.title'),
        message: t('duplicate.message', { what }),
        confirmButtonText: t('duplicate.saveAnyway'),
        cancelButtonText: t('duplicate.viewExisting'),
        className: 'gp-duplicate-dialog',
      })
      return true
    } catch {
      await writeDraft()
      if (router) void router.push(`/records/${existing.kind}/${existing.id}`)
      return false
    }
  }

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
        if (!(await confirmNotDuplicate(checked.fields, record))) return
        const id = await records.create(options.kind, checked.fields, options.stagedPhotos?.() ?? [])
        void dropDraft()
        options.onSaved(id, 'created')
        return
      }
      const patch: Record<string, unknown> = {}
      for (const [field, value] of Object.entries(checked.fields))
        if (!kept.includes(field) && !sameValue(value, record.fields[field])) patch[field] = value ?? null
      if (Object.keys(patch).length === 0) {
        void dropDraft()
        options.onSaved(record.id, 'unchanged')
        return
      }
      if (!(await confirmNotDuplicate(checked.fields, record, patch))) return
      await records.update(options.kind, record.id, patch)
      void dropDraft()
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
      void dropDraft()
      options.onDeleted(record.id)
    } catch (error) {
      showStoreError(error)
    } finally {
      saving.value = false
    }
  }

  return { errors, saving, isEdit, canDelete, save, remove, restored, discardDraft }
}
