import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, disposePinia, setActivePinia } from 'pinia'
import type { Pinia } from 'pinia'
import { v7 } from 'uuid'
import { effectScope, ref } from 'vue'
import { usePatrolTrack } from '../../src/composables/usePatrolTrack.ts'
import { useStorage } from '../../src/composables/useStorage.ts'
import { GridPatrolDb } from '../../src/db/GridPatrolDb.ts'
import type { ShrinkImage } from '../../src/db/photoStore.ts'
import type { HttpTransport } from '../../src/sync/httpTransport.ts'
import { resetServices, setServices } from '../../src/stores/services.ts'
import { useRecordsStore } from '../../src/stores/useRecordsStore.ts'
import { useSessionStore } from '../../src/stores/useSessionStore.ts'
import { useSyncStore } from '../../src/stores/useSyncStore.ts'
import { FakePhotoServer } from './fakePhotoServer.ts'
import { FakeServer } from './fakeServer.ts'
import { GRID, T0, freshDbName, household } from './testDevice.ts'

let server: FakeServer
let photos: FakePhotoServer
let db: GridPatrolDb
let pinia: Pinia
let wall: number

const shrinkImage: ShrinkImage = async (file) => ({
  data: await file.arrayBuffer(),
  mime: 'image/jpeg',
  width: 1600,
  height: 1200,
})

beforeEach(() => {
  server = new FakeServer()
  photos = new FakePhotoServer()
  photos.acceptToken = 'access-u1'
  wall = T0
  const api: HttpTransport = {
    push: (request) => server.push(request),
    pull: (query) => server.pull(query),
    confirmWiped: () => server.confirmWiped(),
    unmask: async () => {
      throw new Error('not used here')
    },
    login: async ({ username }) => ({
      accessToken: 'access-u1',
      accessExpiresAt: T0 + 900_000,
      refreshToken: 'refresh-u1',
      refreshExpiresAt: T0 + 86_400_000,
      user: { id: 'u1', username, displayName: username, role: 'worker', areaIds: [GRID] },
    }),
    logout: async () => undefined,
    fetchAreas: async () => [],
    fetchConfig: async () => ({
      basemapUrl: '',
      basemapAttribution: '',
      maxClockDriftMs: 300_000,
      protocol: 1,
    }),
  }
  db = new GridPatrolDb(freshDbName())
  setServices({
    db,
    transport: api,
    now: () => wall,
    random: () => 0.5,
    newId: () => v7(),
    isOnline: () => true,
    shrinkImage,
    photoFetch: photos.fetch,
  })
  pinia = createPinia()
  setActivePinia(pinia)
})

afterEach(async () => {
  disposePinia(pinia)
  resetServices()
  await db.delete()
})

async function loggedIn() {
  await useSessionStore().login('worker1', 'secret')
  const sync = useSyncStore()
  sync.stop()
  return { records: useRecordsStore(), sync }
}

describe('records store for field capture', () => {
  it('members of a household and photos of an owner are live; photo bytes upload after the sync push', async () => {
    const { records, sync } = await loggedIn()
    const hh = await records.create('household', household())
    const scope = effectScope()
    const householdId = ref(hh)
    const members = scope.run(() => records.membersOf(householdId))!
    const ownPhotos = scope.run(() => records.photosOf(hh))!
    const memberId = await records.create('person', {
      gridId: GRID,
      householdId: hh,
      name: '王小红',
      gender: 'female',
      birthDate: '2010-03-04',
      relation: 'child',
      populationType: 'registered',
    })
    await vi.waitFor(() => expect(members.value.map((m) => m.id)).toEqual([memberId]))
    householdId.value = v7()
    await vi.waitFor(() => expect(members.value).toEqual([]))

    const photoId = await records.addPhoto(new Blob([new Uint8Array([1, 2, 3])], { type: 'image/jpeg' }), {
      kind: 'household',
      id: hh,
      gridId: GRID,
    })
    await vi.waitFor(() => expect(ownPhotos.value.map((p) => p.id)).toEqual([photoId]))
    await vi.waitFor(() => expect(sync.pendingPhotos).toBe(1))
    const sha = (await records.get(photoId))!.fields['sha256'] as string

    expect(await sync.syncNow()).toBe(true)
    expect(server.state(photoId)).toBeDefined()
    expect(photos.complete.has(sha)).toBe(true)
    await vi.waitFor(() => expect(sync.pendingPhotos).toBe(0))

    // Shown from the local bytes; once they are gone, from the server with the token.
    const local = await records.photoUrl(sha)
    expect(local).toMatch(/^blob:/)
    await db.photoBlobs.clear()
    const remote = await records.photoUrl(sha)
    expect(remote).toMatch(/^blob:/)
    expect(await records.photoUrl('0'.repeat(64))).toBeNull()
    scope.stop()
  })

  it('drafts through the store survive a new store on the same database', async () => {
    const { records } = await loggedIn()
    await records.saveDraft('person:new', { name: '王', tags: ['disabled'] })
    disposePinia(pinia)
    pinia = createPinia()
    setActivePinia(pinia)
    const again = useRecordsStore()
    expect(await again.loadDraft('person:new')).toEqual({ name: '王', tags: ['disabled'] })
    await again.clearDraft('person:new')
    expect(await again.loadDraft('person:new')).toBeNull()
  })
})

/** A geolocation whose fixes the test emits by hand. */
function fakeGeolocation() {
  let callback: PositionCallback | null = null
  const cleared: number[] = []
  return {
    cleared,
    watchPosition(success: PositionCallback) {
      callback = success
      return 7
    },
    clearWatch(id: number) {
      cleared.push(id)
      callback = null
    },
    emit(i: number) {
      callback?.({
        coords: { longitude: 119.6 + i / 1e4, latitude: 30 + i / 1e4, accuracy: 5 + i },
        timestamp: T0 + i * 1000,
      } as unknown as GeolocationPosition)
    },
  }
}

describe('usePatrolTrack', () => {
  it('keeps every point as it arrives, updates the track every 20 points, and finishes it on stop', async () => {
    const { records } = await loggedIn()
    const geo = fakeGeolocation()
    const scope = effectScope()
    const track = scope.run(() => usePatrolTrack({ geolocation: geo }))!
    const id = await track.start(GRID)
    expect(track.recording.value).toBe(true)
    for (let i = 1; i <= 25; i++) geo.emit(i)
    await vi.waitFor(async () => expect(await db.trackPoints.count()).toBe(25))
    const mid = (await records.get(id))!.fields
    expect((mid['points'] as unknown[]).length).toBe(20)
    expect(mid['endedAt']).toBeNull()
    wall = T0 + 60_000
    await track.stop()
    expect(geo.cleared).toEqual([7])
    const done = (await records.get(id))!.fields
    expect(done['points']).toHaveLength(25)
    expect((done['points'] as number[][])[24]).toEqual([119.6 + 25 / 1e4, 30 + 25 / 1e4, T0 + 25_000, 30])
    expect(done['endedAt']).toBe(T0 + 60_000)
    expect(await db.trackPoints.count()).toBe(0)
    scope.stop()
  })

  it('a track cut short by a crash is completed from the kept points', async () => {
    const { records } = await loggedIn()
    const geo = fakeGeolocation()
    const crashed = effectScope()
    const track = crashed.run(() => usePatrolTrack({ geolocation: geo }))!
    const id = await track.start(GRID)
    for (let i = 1; i <= 5; i++) geo.emit(i)
    await vi.waitFor(async () => expect(await db.trackPoints.count()).toBe(5))
    crashed.stop() // the page went away without stop()
    expect((await records.get(id))!.fields['points']).toEqual([])

    const after = effectScope()
    const again = after.run(() => usePatrolTrack({ geolocation: fakeGeolocation() }))!
    expect(await again.recover()).toBe(1)
    const fields = (await records.get(id))!.fields
    expect(fields['points']).toHaveLength(5)
    expect(fields['endedAt']).toBe(T0 + 5000)
    expect(await db.trackPoints.count()).toBe(0)
    after.stop()
  })
})

describe('useStorage', () => {
  it('asks for persistence once it is not granted, and warns from 80 % of the quota', async () => {
    const persist = vi.fn(async () => true)
    let usage = 70
    const storage = {
      persisted: async () => false,
      persist,
      estimate: async () => ({ usage, quota: 100 }),
    } as unknown as StorageManager
    const state = useStorage(storage)
    expect(await state.persist()).toBe(true)
    expect(persist).toHaveBeenCalledTimes(1)
    await state.refresh()
    expect(state.nearQuota.value).toBe(false)
    usage = 80
    await state.refresh()
    expect(state.usage.value).toBe(80)
    expect(state.nearQuota.value).toBe(true)

    const granted = { ...storage, persisted: async () => true, persist } as unknown as StorageManager
    expect(await useStorage(granted).persist()).toBe(true)
    expect(persist).toHaveBeenCalledTimes(1)
  })
})
