/**
 * The device side of `npm run bench`, run in Debian's Chromium: the app's own Dexie adapter, on real IndexedDB.
 * Loads N households through the real pull path (pages of 1,000, one bulk write each), then times search, paged
 * lists and local saves (the in-memory search index's first load is timed apart). Exposed as `window.gridpatrolBench.run(n)`; tests/bench/run.ts drives it.
 */
import { formatStamp } from '#shared/sync/hlc.ts'
import { MAX_PUSH_OPS, PROTOCOL_VERSION, type ServerRecord } from '#shared/sync/protocol.ts'
import { GridPatrolDb } from '../../../src/db/GridPatrolDb.ts'
import { createDexieLocalStore } from '../../../src/db/dexieLocalStore.ts'
import { createRecordRepository } from '../../../src/db/recordRepository.ts'
import { listPage, searchRecords } from '../../../src/db/recordQueries.ts'
import type { StoredSession } from '../../../src/db/GridPatrolDb.ts'
import { SyncEngine } from '../../../src/sync/SyncEngine.ts'
import { createApiClient } from '../../../src/sync/apiClient.ts'
import { createHttpTransport } from '../../../src/sync/httpTransport.ts'
import { sessionTokenStore } from '../../../src/stores/services.ts'
import { queryTerms } from '../../../src/db/searchText.ts'
import { benchHousehold, GRIDS } from '../households.ts'

const PAGE = 1000

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

async function timed(
  times: number,
  fn: (i: number) => Promise<unknown>,
): Promise<{ p50: number; p95: number }> {
  const samples: number[] = []
  for (let i = 0; i < times; i++) {
    const t0 = performance.now()
    await fn(i)
    samples.push(performance.now() - t0)
  }
  return { p50: percentile(samples, 50), p95: percentile(samples, 95) }
}

/** Seconds to put every page into a fresh database with the bare IndexedDB API (one object store, no index). */
async function rawBulkWrite(pages: readonly ServerRecord[][]): Promise<number> {
  const name = `bench-raw-${Date.now()}`
  const idb = await new Promise<IDBDatabase>((resolve, reject) => {
    const open = indexedDB.open(name, 1)
    open.onupgradeneeded = () => open.result.createObjectStore('records', { keyPath: 'id' })
    open.onsuccess = () => resolve(open.result)
    open.onerror = () => reject(open.error)
  })
  const t0 = performance.now()
  for (const records of pages) {
    await new Promise<void>((resolve, reject) => {
      const tx = idb.transaction('records', 'readwrite')
      const table = tx.objectStore('records')
      for (const record of records) table.put(record)
      tx.oncomplete = () => resolve()
      tx.onerror = () => reject(tx.error)
    })
  }
  const seconds = (performance.now() - t0) / 1000
  idb.close()
  indexedDB.deleteDatabase(name)
  return seconds
}

async function run(n: number) {
  const db = new GridPatrolDb(`bench-${Date.now()}`)
  let uuidCounter = 0
  const newId = () => `0190b000-0000-7000-8000-${String(++uuidCounter).padStart(12, '0')}`
  const store = createDexieLocalStore(db, { now: () => Date.now(), newId })
  const stamp = formatStamp({ ms: Date.now() - 86_400_000, counter: 0, node: 'server' })

  const pages: ServerRecord[][] = []
  for (let start = 0; start < n; start += PAGE) {
    const records: ServerRecord[] = []
    for (let i = start; i < Math.min(n, start + PAGE); i++) {
      const fields = benchHousehold(i)
      records.push({
        kind: 'household',
        id: `0190a000-0000-7000-8000-${String(i + 1).padStart(12, '0')}`,
        fields,
        stamps: Object.fromEntries(Object.keys(fields).map((f) => [f, stamp])),
        seq: i + 1,
        scope: {
          gridId: fields.gridId,
          villageId: fields.gridId.slice(0, 12),
          townId: fields.gridId.slice(0, 9),
          countyId: '330523',
        },
      })
    }
    pages.push(records)
  }

  // The ceiling: the same records put with the bare IndexedDB API, one transaction per page, no index.
  const rawSeconds = await rawBulkWrite(pages)

  const t0 = performance.now()
  for (const [index, records] of pages.entries()) {
    await store.applyPullPage({
      protocol: PROTOCOL_VERSION,
      clock: stamp,
      records,
      cursor: index * PAGE + records.length,
      more: true,
      scopeKey: 'bench',
    })
  }
  const loadSeconds = (performance.now() - t0) / 1000

  // The in-memory search index loads a kind from IndexedDB on its first use: timed apart from the searches.
  const indexStart = performance.now()
  await searchRecords(db, 'household', '', { limit: 1 })
  const indexSeconds = (performance.now() - indexStart) / 1000

  const probes = Array.from({ length: 200 }, (_, i) => benchHousehold((i * 7919) % n))
  // What a worker types: a name, the start of an address, the last four digits of a phone.
  const queries = probes.map((h, i) =>
    i % 3 === 0 ? h.headName : i % 3 === 1 ? h.address.slice(3, 9) : h.headPhone.slice(-4),
  )
  const search = await timed(queries.length, (i) =>
    searchRecords(db, 'household', queries[i]!, { limit: 50 }),
  )
  // Of which matching in memory (the rest is reading the page's records from IndexedDB).
  const match = await timed(queries.length, (i) =>
    db.searchIndex.search('household', queryTerms(queries[i]!), {}, 0, 50),
  )
  const list = await timed(200, (i) => listPage(db, 'household', (i * 50) % Math.max(1, n - 50), 50))
  const repository = createRecordRepository(db, { now: () => Date.now(), newId })
  const save = await timed(200, (i) =>
    repository.create('household', { ...benchHousehold(n + i), gridId: GRIDS[i % GRIDS.length]! }),
  )
  db.close()
  await db.delete()
  return {
    n,
    loadSeconds,
    loadRate: n / loadSeconds,
    rawRate: n / rawSeconds,
    indexSeconds,
    search,
    match,
    list,
    save,
  }
}

/**
 * Push of `n` edits made offline, end to end: the records are created on the device (timed apart), then the app's own
 * sync engine, HTTP transport and API client push them to the real server this page is served from (same origin).
 */
async function pushRun(options: { session: StoredSession; deviceId: string; grids: string[]; n: number }) {
  const db = new GridPatrolDb(`bench-push-${Date.now()}`)
  await db.setMeta('deviceId', options.deviceId)
  await db.setMeta('session', options.session)
  let counter = 0
  const newId = () => `0190c000-0000-7000-8000-${String(++counter).padStart(12, '0')}`
  const deps = { now: () => Date.now(), newId }
  const repository = createRecordRepository(db, deps)
  const t0 = performance.now()
  for (let i = 0; i < options.n; i++) {
    await repository.create('household', {
      ...benchHousehold(i),
      gridId: options.grids[i % options.grids.length]!,
    })
  }
  const captureSeconds = (performance.now() - t0) / 1000
  const client = createApiClient({ session: sessionTokenStore(() => db, newId) })
  const engine = new SyncEngine({
    store: createDexieLocalStore(db, deps),
    transport: createHttpTransport(client),
    now: deps.now,
    pushBatchSize: MAX_PUSH_OPS,
  })
  const t1 = performance.now()
  let pushedAt = 0
  const summary = await engine.sync((progress) => {
    if (progress.phase === 'pull' && pushedAt === 0) pushedAt = performance.now()
  })
  const syncSeconds = (performance.now() - t1) / 1000
  db.close()
  await db.delete()
  return {
    n: options.n,
    captureSeconds,
    pushSeconds: (pushedAt - t1) / 1000,
    syncSeconds,
    pushed: summary.pushed,
  }
}

declare global {
  interface Window {
    gridpatrolBench: { run: typeof run; pushRun: typeof pushRun }
  }
}
window.gridpatrolBench = { run, pushRun }
