import { Dexie } from 'dexie'
import { defineStore } from 'pinia'
import { RECORD_KINDS } from '#shared/schemas/records.ts'
import type { RecordKind } from '#shared/schemas/records.ts'
import { useLiveQuery } from '../composables/useLiveQuery.ts'
import type { GridPatrolDb, LocalRecord } from '../db/GridPatrolDb.ts'
import { createRecordRepository } from '../db/recordRepository.ts'
import { getServices } from './services.ts'
import { useSyncStore } from './useSyncStore.ts'

export type RecordCounts = Record<RecordKind, number>

/** The live (not deleted) records of a kind, on the [kind+deleted+updatedAt] index. */
function liveRange(db: GridPatrolDb, kind: RecordKind) {
  return db.records
    .where('[kind+deleted+updatedAt]')
    .between([kind, 0, Dexie.minKey], [kind, 0, Dexie.maxKey], true, true)
}

export const useRecordsStore = defineStore('records', () => {
  const services = getServices()
  const { db } = services
  const repository = createRecordRepository(db, services)

  const newestFirst = (kind: RecordKind) =>
    useLiveQuery(() => liveRange(db, kind).reverse().limit(services.listLimit).toArray(), [] as LocalRecord[])
  const households = newestFirst('household')
  const places = newestFirst('place')
  const incidents = newestFirst('incident')
  const lists = { household: households, place: places, incident: incidents }

  const zero = (): RecordCounts => ({ household: 0, place: 0, incident: 0 })
  /** Counts of live records per kind (complete, unlike the lists, which hold at most `listLimit`). */
  const counts = useLiveQuery(async () => {
    const result = zero()
    for (const kind of RECORD_KINDS) result[kind] = await liveRange(db, kind).count()
    return result
  }, zero())

  /** The live list of a kind, newest first. */
  function listOf(kind: RecordKind): LocalRecord[] {
    return lists[kind].value
  }

  /** Throws ValidationError ({ field, message }) on bad input. Returns the new record's id. */
  async function create(kind: RecordKind, fields: Record<string, unknown>): Promise<string> {
    const id = await repository.create(kind, fields)
    useSyncStore().nudge()
    return id
  }

  /** Sends only the fields that really changed; returns whether anything did. */
  async function update(kind: RecordKind, id: string, patch: Record<string, unknown>): Promise<boolean> {
    const changed = await repository.update(kind, id, patch)
    if (changed) useSyncStore().nudge()
    return changed
  }

  async function remove(kind: RecordKind, id: string): Promise<boolean> {
    const removed = await repository.remove(kind, id)
    if (removed) useSyncStore().nudge()
    return removed
  }

  /** The record (also a deleted one: check `deleted`), or undefined. */
  function get(id: string): Promise<LocalRecord | undefined> {
    return repository.get(id)
  }

  return { households, places, incidents, counts, listOf, create, update, remove, get }
})
