import { Dexie } from 'dexie'
import { defineStore } from 'pinia'
import { RECORD_KINDS } from '#shared/schemas/records.ts'
import type { RecordKind } from '#shared/schemas/records.ts'
import { useLiveQuery } from '../composables/useLiveQuery.ts'
import type { GridPatrolDb, LocalRecord } from '../db/GridPatrolDb.ts'
import { createRecordRepository } from '../db/recordRepository.ts'
import { AuthError, RequestError, TransportError } from '../sync/ports.ts'
import { getServices } from './services.ts'
import { useSessionStore } from './useSessionStore.ts'
import { useSyncStore } from './useSyncStore.ts'

export type RecordCounts = Record<RecordKind, number>

export type UnmaskErrorCode =
  'offline' | 'forbidden' | 'not_found' | 'not_sensitive' | 'needs_login' | 'server' | 'invalid_request'

/** Why a sensitive value could not be shown; `message` is Chinese, the UI may translate by `code`. */
export class UnmaskError extends Error {
  override name = 'UnmaskError'
  constructor(
    readonly code: UnmaskErrorCode,
    message: string,
  ) {
    super(message)
  }
}

function unmaskErrorOf(error: unknown): UnmaskError {
  if (error instanceof AuthError) return new UnmaskError('needs_login', '登录已失效，请重新登录后再查看')
  if (error instanceof RequestError) {
    if (error.status === 403) return new UnmaskError('forbidden', '您的角色无权查看完整信息')
    if (error.status === 404) return new UnmaskError('not_found', '该记录不在您的管辖范围内或已不存在')
    if (error.status === 400 && error.code !== 'invalid_request')
      return new UnmaskError('not_sensitive', '该字段无需解除遮挡')
    return new UnmaskError('invalid_request', error.message || '请求无效')
  }
  if (error instanceof TransportError && error.status !== undefined)
    return new UnmaskError('server', '服务器暂时不可用，请稍后再试')
  return new UnmaskError('offline', '查看完整信息需要联网，请联网后再试')
}

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

  /**
   * The clear value of a masked field (phone, ID number), asked of the server, which records who asked; online only.
   * The value is shown, never stored: the device keeps what the server sends it (masked for this role).
   * Throws UnmaskError with a Chinese message.
   */
  async function unmask(kind: RecordKind, id: string, field: string): Promise<string> {
    if (!services.isOnline()) throw unmaskErrorOf(null)
    try {
      const answer = await services.transport.unmask(kind, id, field)
      return answer.value === null || answer.value === undefined ? '' : String(answer.value)
    } catch (error) {
      if (error instanceof AuthError) useSessionStore().markNeedsReauth()
      throw unmaskErrorOf(error)
    }
  }

  return { households, places, incidents, counts, listOf, create, update, remove, get, unmask }
})
