/**
 * Form drafts, saved as the user types (the UI debounces), so a half-filled form survives a reload or a crash.
 * A draft is kept until the form is saved or abandoned (clearDraft); it is local only and never synced.
 */
import type { GridPatrolDb } from './GridPatrolDb.ts'

export async function saveDraft(
  db: GridPatrolDb,
  key: string,
  fields: Record<string, unknown>,
  now: () => number = Date.now,
): Promise<void> {
  // A structured clone, so a reactive (Proxy) form model can be stored.
  const plain = JSON.parse(JSON.stringify(fields)) as Record<string, unknown>
  await db.drafts.put({ key, fields: plain, savedAt: now() })
}

export async function loadDraft(db: GridPatrolDb, key: string): Promise<Record<string, unknown> | null> {
  return (await db.drafts.get(key))?.fields ?? null
}

export async function clearDraft(db: GridPatrolDb, key: string): Promise<void> {
  await db.drafts.delete(key)
}
