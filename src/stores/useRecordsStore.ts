import { defineStore } from 'pinia'
import { effectScope, onScopeDispose, toValue } from 'vue'
import type { MaybeRefOrGetter, ShallowRef } from 'vue'
import { PHOTO_OWNER_KINDS, RECORD_KINDS } from '#shared/schemas/records.ts'
import type { RecordKind } from '#shared/schemas/records.ts'
import { useLiveQuery } from '../composables/useLiveQuery.ts'
import type { LocalRecord } from '../db/GridPatrolDb.ts'
import { clearDraft, loadDraft, saveDraft } from '../db/drafts.ts'
import {
  addPhoto as storePhoto,
  attachPhotos,
  dropStagedPhotos,
  stagePhoto as stageStoredPhoto,
} from '../db/photoStore.ts'
import type { BlobStatus, PhotoOwner, StagedPhoto } from '../db/photoStore.ts'
import {
  childrenOf,
  countLive,
  findDuplicates,
  listPage,
  liveRange,
  searchRecords,
} from '../db/recordQueries.ts'
import type { SearchOptions } from '../db/recordQueries.ts'
import { createRecordRepository } from '../db/recordRepository.ts'
import { photoUrl as photoUrlOf } from '../sync/photoUrl.ts'
import { AuthError, RequestError, TransportError } from '../sync/ports.ts'
import { getServices } from './services.ts'
import { useSessionStore } from './useSessionStore.ts'
import { useSyncStore } from './useSyncStore.ts'

export type { BlobStatus, StagedPhoto }

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

/** Kinds kept as live lists in the store; members and photos are many, read them per parent (membersOf, photosOf). */
const LISTED_KINDS = ['household', 'place', 'incident', 'visit', 'track'] as const
type ListedKind = (typeof LISTED_KINDS)[number]

export const useRecordsStore = defineStore('records', () => {
  const services = getServices()
  const { db } = services
  const repository = createRecordRepository(db, services)
  // Load the in-memory search index while the app is idle, so the first search need not wait for it. A failure
  // (the database closed by a logout meanwhile) costs nothing: the next search loads it again.
  // Staged photo bytes no draft lists any more (a form abandoned by a crash) are dropped at the same time.
  globalThis.requestIdleCallback?.(() => {
    void db.searchIndex.warm().catch(() => undefined)
    void dropStagedPhotos(db).catch(() => undefined)
  })

  // Each live list also reads how many ops are queued, so it is read again when a push acknowledges some: an
  // acknowledgement writes no record (GridPatrolDb.ts), and the lists shown (RecordListView) reload on a new list.
  const newestFirst = (kind: RecordKind) =>
    useLiveQuery(async () => {
      const [list] = await Promise.all([
        liveRange(db, kind).reverse().limit(services.listLimit).toArray(),
        db.outbox.count(),
      ])
      return list
    }, [] as LocalRecord[])
  // A kind's live list is made when something first asks for it (the list screen), and lives as long as the store:
  // the home screen and the forms need none, and each list reads up to `listLimit` records again after every write.
  const listScope = effectScope(true)
  onScopeDispose(() => listScope.stop())
  const lists = new Map<ListedKind, Readonly<ShallowRef<LocalRecord[]>>>()
  const isListed = (kind: RecordKind): kind is ListedKind =>
    (LISTED_KINDS as readonly string[]).includes(kind)

  const zero = (): RecordCounts => Object.fromEntries(RECORD_KINDS.map((kind) => [kind, 0])) as RecordCounts
  /** Counts of live records per kind (complete, unlike the lists, which hold at most `listLimit`). */
  const counts = useLiveQuery(async () => {
    const result = zero()
    for (const kind of RECORD_KINDS) result[kind] = await countLive(db, kind)
    return result
  }, zero())

  /** The live list of a kind, newest first (at most `listLimit`); members and photos: use membersOf / photosOf. */
  function listOf(kind: RecordKind): LocalRecord[] {
    if (!isListed(kind)) return []
    let list = lists.get(kind)
    if (!list) {
      list = listScope.run(() => newestFirst(kind))!
      lists.set(kind, list)
    }
    return list.value
  }

  /** Live children of a parent, newest first; call from a component's setup (it ends with the component). */
  const liveChildren = (kind: RecordKind, parentId: MaybeRefOrGetter<string>) =>
    useLiveQuery(
      () => childrenOf(db, kind, toValue(parentId)),
      [] as LocalRecord[],
      () => toValue(parentId),
    )

  /** The members (person records) of a household, live. */
  function membersOf(householdId: MaybeRefOrGetter<string>): Readonly<ShallowRef<LocalRecord[]>> {
    return liveChildren('person', householdId)
  }

  /** The visits of a household or place, live. */
  function visitsOf(targetId: MaybeRefOrGetter<string>): Readonly<ShallowRef<LocalRecord[]>> {
    return liveChildren('visit', targetId)
  }

  /** The photo records of an owner (household, place, incident, visit), live. */
  function photosOf(ownerId: MaybeRefOrGetter<string>): Readonly<ShallowRef<LocalRecord[]>> {
    return liveChildren('photo', ownerId)
  }

  /** Search by name, address, ID-number prefix or phone suffix, with filters; newest first. */
  function search(kind: RecordKind, query: string, options: SearchOptions = {}): Promise<LocalRecord[]> {
    return searchRecords(db, kind, query, { ...options, queuedState: true })
  }

  /** A page of live records of a kind, newest first, for virtual scrolling (the total is `counts[kind]`). */
  function page(kind: RecordKind, offset: number, limit: number): Promise<LocalRecord[]> {
    return listPage(db, kind, offset, limit, true)
  }

  /** Records that are likely the same as one about to be saved (person: same ID number; household: same address). */
  function duplicatesOf(
    kind: RecordKind,
    fields: Record<string, unknown>,
    exceptId?: string,
  ): Promise<LocalRecord[]> {
    return findDuplicates(db, kind, fields, exceptId)
  }

  const photoDeps = { db, repository, now: services.now, shrinkImage: services.shrinkImage }

  /** Shrink, hash and keep a photo, and create its record; it uploads after the next sync push. */
  async function addPhoto(file: Blob, owner: PhotoOwner): Promise<string> {
    const id = await storePhoto(photoDeps, file, owner)
    useSyncStore().nudge()
    return id
  }

  /** What the device holds of each photo's bytes (staged, uploaded, how far), live; keyed by SHA-256. */
  function blobStatusOf(
    sha256s: MaybeRefOrGetter<readonly string[]>,
  ): Readonly<ShallowRef<Record<string, BlobStatus>>> {
    return useLiveQuery(
      async () => {
        const rows = await db.photoBlobs.bulkGet([...toValue(sha256s)])
        const status: Record<string, BlobStatus> = {}
        for (const row of rows) {
          if (!row) continue
          const { uploaded, staged, offset, bytes } = row
          status[row.sha256] = { uploaded: uploaded === 1, staged: staged === 1, offset, bytes }
        }
        return status
      },
      {} as Record<string, BlobStatus>,
      () => toValue(sha256s).join(),
    )
  }

  /** Shrink, hash and keep a photo for a record not saved yet; pass it to `create` with the record. */
  function stagePhoto(file: Blob): Promise<StagedPhoto> {
    return stageStoredPhoto(photoDeps, file)
  }

  /** Forget staged photos the user removed or whose form was discarded (attached ones are kept). */
  async function dropStaged(sha256s: readonly string[]): Promise<void> {
    await dropStagedPhotos(db, sha256s)
  }

  /** An object URL for a photo (local bytes, else the server's thumbnail/original); revoke it when done. */
  function photoUrl(sha256: string, variant: 'thumb' | 'original' = 'thumb'): Promise<string | null> {
    return photoUrlOf(
      {
        db,
        fetch: services.photoFetch,
        token: async () => (await db.getMeta('session'))?.accessToken ?? null,
      },
      sha256,
      variant,
    )
  }

  /**
   * Throws ValidationError ({ field, message }) on bad input. Returns the new record's id. Staged `photos` become
   * the record's photos in the same transaction: the record and its photos are saved together or not at all.
   */
  async function create(
    kind: RecordKind,
    fields: Record<string, unknown>,
    photos: readonly StagedPhoto[] = [],
  ): Promise<string> {
    const ownerKind = PHOTO_OWNER_KINDS.find((candidate) => candidate === kind)
    const id =
      photos.length === 0 || !ownerKind
        ? await repository.create(kind, fields)
        : await db.transaction('rw', [...db.userDataTables(), db.meta], async () => {
            const created = await repository.create(kind, fields)
            const gridId = typeof fields['gridId'] === 'string' ? fields['gridId'] : ''
            await attachPhotos(photoDeps, photos, { kind: ownerKind, id: created, gridId })
            return created
          })
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

  return {
    counts,
    listOf,
    membersOf,
    visitsOf,
    photosOf,
    search,
    page,
    listPage: page,
    duplicatesOf,
    addPhoto,
    stagePhoto,
    dropStaged,
    blobStatusOf,
    photoUrl,
    saveDraft: (key: string, fields: Record<string, unknown>) => saveDraft(db, key, fields, services.now),
    loadDraft: (key: string) => loadDraft(db, key),
    clearDraft: (key: string) => clearDraft(db, key),
    create,
    update,
    remove,
    get,
    unmask,
  }
})
