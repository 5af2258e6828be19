/**
 * Writes imported households all or nothing: ONE Dexie transaction over the tables the records store's `create`
 * writes (records, outbox, refused, meta, areas); each row goes through that `create` (validation, stamp, outbox op),
 * so the rows sync as ordinary ops. If any write fails the transaction aborts and none of the rows stays.
 */
import type { Household } from '#shared/schemas/records.ts'
import { getServices } from '../../stores/services.ts'
import { useRecordsStore } from '../../stores/useRecordsStore.ts'

export async function importHouseholds(rows: readonly Household[]): Promise<string[]> {
  const { db } = getServices()
  const records = useRecordsStore()
  return db.transaction('rw', [db.records, db.outbox, db.refused, db.meta, db.areas], async () => {
    const ids: string[] = []
    for (const fields of rows) ids.push(await records.create('household', { ...fields }))
    return ids
  })
}
