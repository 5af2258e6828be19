/**
 * The device side of `npm run bench`, run in Debian's Chromium: the app's own Dexie adapter, on real IndexedDB.
 * Loads N households through the real pull path (pages of 1,000, one bulk write each), then times search, paged
 * lists and local saves (the in-memory search index's first load is timed apart). Exposed as `window.gridpatrolBench.run(n)`; tests/bench/run.ts drives it.
 * The initial-pull comparison (tests/bench/pullPeer.ts) drives `pullRun` (ours, over HTTP), `pouchRun` (PouchDB's
 * replication into its IndexedDB adapter) and `rawRun` (the bare IndexedDB ceiling), each in a fresh profile.
 * The push wire comparison (tests/bench/pushPeer.ts) drives `pushRun` (ours) and `pouchPushRun` (PouchDB's).
 */
import { formatStamp } from '#shared/sync/hlc.ts'
import { MAX_PUSH_OPS, PROTOCOL_VERSION, type ServerRecord } from '#shared/sync/protocol.ts'
import { GridPatrolDb } from '../../../src/db/GridPatrolDb.ts'
import { createDexieLocalStore } from '../../../src/db/dexieLocalStore.ts'
import { createRecordRepository } from '../../../src/db/recordRepository.ts'
import { countLive, listPage, searchRecords } from '../../../src/db/recordQueries.ts'
import type { LocalRecord, StoredSession } from '../../../src/db/GridPatrolDb.ts'
import { SyncEngine } from '../../../src/sync/SyncEngine.ts'
import { createApiClient } from '../../../src/sync/apiClient.ts'
import { createHttpTransport } from '../../../src/sync/httpTransport.ts'
import { sessionTokenStore } from '../../../src/stores/services.ts'
import { queryTerms } from '../../../src/db/searchText.ts'
import { benchHousehold, GRIDS } from '../households.ts'
import PouchDB from 'pouchdb-browser'

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

/**
 * Seconds to put every page into a fresh database with the bare IndexedDB API: one object store keyed by id, and
 * with `indexes` the given ones (key paths), no Dexie, no merge, no reads.
 */
async function rawBulkWrite(
  pages: readonly object[][],
  indexes: readonly (string | string[])[] = [],
): Promise<number> {
  const name = `bench-raw-${Date.now()}`
  const idb = await new Promise<IDBDatabase>((resolve, reject) => {
    const open = indexedDB.open(name, 1)
    open.onupgradeneeded = () => {
      const store = open.result.createObjectStore('records', { keyPath: 'id' })
      for (const keyPath of indexes) store.createIndex(JSON.stringify(keyPath), keyPath)
    }
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

/** N households as the server sends them (fields, a stamp per field, scope), in pull pages of 1,000. */
function benchPages(n: number, stamp: string): ServerRecord[][] {
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
  return pages
}

async function run(n: number) {
  const db = new GridPatrolDb(`bench-${Date.now()}`)
  let uuidCounter = 0
  const newId = () => `0190b000-0000-7000-8000-${String(++uuidCounter).padStart(12, '0')}`
  const store = createDexieLocalStore(db, { now: () => Date.now(), newId })
  const stamp = formatStamp({ ms: Date.now() - 86_400_000, counter: 0, node: 'server' })
  const pages = benchPages(n, stamp)

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
  // The floor under a save, in the same run: what any save of ours must write (the record and its outbox op, which
  // carries the op seq and the clock's stamp) in one Dexie transaction, with no validation, merge or reads.
  const saved = (await db.outbox.orderBy(':id').last())!
  const record = (await db.records.get(saved.id))!
  const floor = await timed(200, (i) => {
    const id = `0190f000-0000-7000-8000-${String(i).padStart(12, '0')}`
    return db.transaction('rw', [db.records, db.outbox], () =>
      Promise.all([
        db.records.put({ ...record, id }),
        db.outbox.add({ ...saved, seq: saved.seq + 1 + i, id }),
      ]),
    )
  })
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
    floor,
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
  const store = createDexieLocalStore(db, deps)
  const transport = createHttpTransport(client)
  // Time in the push's store calls (outbox reads, answer writes) and in its requests, summed apart (they overlap:
  // the next batch is sent while the answers to one are written).
  let storeSeconds = 0
  let transportSeconds = 0
  const timedCall = async <T>(call: () => Promise<T>, add: (seconds: number) => void): Promise<T> => {
    const t = performance.now()
    try {
      return await call()
    } finally {
      add((performance.now() - t) / 1000)
    }
  }
  const toStore = (seconds: number) => void (storeSeconds += seconds)
  const engine = new SyncEngine({
    store: {
      ...store,
      outboxBatch: (...args) => timedCall(() => store.outboxBatch(...args), toStore),
      applyPushResults: (...args) => timedCall(() => store.applyPushResults(...args), toStore),
    },
    transport: {
      ...transport,
      push: (request) =>
        timedCall(
          () => transport.push(request),
          (s) => void (transportSeconds += s),
        ),
    },
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
    storeSeconds,
    transportSeconds,
  }
}

/** The bare IndexedDB ceiling alone (for a fresh profile): seconds to put N households' pull pages. */
async function rawRun(n: number) {
  const stamp = formatStamp({ ms: Date.now() - 86_400_000, counter: 0, node: 'server' })
  return { n, seconds: await rawBulkWrite(benchPages(n, stamp)) }
}

/**
 * The same ceiling for a store that can list its records: the households as the device stores them (the columns
 * Dexie's indexes read, set by hand: no merge) put with the bare API into a store with the device's record indexes,
 * read from the app's Dexie schema so that the two cannot drift apart.
 */
async function rawIndexedRun(n: number) {
  const ms = Date.now() - 86_400_000
  const stamp = formatStamp({ ms, counter: 0, node: 'server' })
  const schema = new GridPatrolDb(`bench-schema-${Date.now()}`).records.schema
  const indexes = schema.indexes.map((index) => index.keyPath!)
  const pages = benchPages(n, stamp).map((records) =>
    records.map((record): LocalRecord => ({
      id: record.id,
      kind: record.kind,
      fields: record.fields,
      stamps: record.stamps,
      deleted: 0,
      gridId: record.scope.gridId,
      updatedAt: ms,
      serverSeq: record.seq,
      pending: 0,
    })),
  )
  return {
    n,
    seconds: await rawBulkWrite(pages, indexes),
    indexes: schema.indexes.map((index) => index.name),
  }
}

/**
 * Initial pull of a fresh device, ours: the app's sync engine, HTTP transport and Dexie store, against the real
 * server this page is served from (same origin), until the server says there is no more. The time inside the
 * transport (request, transfer, JSON parse, schema check) and inside the store's page writes is summed apart.
 */
async function pullRun(options: { session: StoredSession; deviceId: string }) {
  const db = new GridPatrolDb(`bench-pull-${Date.now()}`)
  await db.setMeta('deviceId', options.deviceId)
  await db.setMeta('session', options.session)
  let counter = 0
  const deps = {
    now: () => Date.now(),
    newId: () => `0190d000-0000-7000-8000-${String(++counter).padStart(12, '0')}`,
  }
  const client = createApiClient({ session: sessionTokenStore(() => db, deps.newId) })
  const transport = createHttpTransport(client)
  const store = createDexieLocalStore(db, deps)
  let transportSeconds = 0
  let storeSeconds = 0
  const engine = new SyncEngine({
    store: {
      ...store,
      applyPullPage: async (...args) => {
        const t = performance.now()
        try {
          return await store.applyPullPage(...args)
        } finally {
          storeSeconds += (performance.now() - t) / 1000
        }
      },
    },
    transport: {
      ...transport,
      pull: async (query) => {
        const t = performance.now()
        try {
          return await transport.pull(query)
        } finally {
          transportSeconds += (performance.now() - t) / 1000
        }
      },
    },
    now: deps.now,
  })
  const t0 = performance.now()
  const summary = await engine.sync()
  const seconds = (performance.now() - t0) / 1000
  // Counted on [kind+deleted+updatedAt]: a bare where('kind') would let Dexie pick the sparse [kind+parentId] index.
  const stored = await countLive(db, 'household')
  db.close()
  return { seconds, pulled: summary.pulled, stored, transportSeconds, storeSeconds }
}

/**
 * Initial pull of a fresh device, PouchDB's: `replicate.from` the CouchDB-style server this page is served from
 * into a new database on PouchDB's IndexedDB adapter, until the replication completes.
 */
async function pouchRun(options: { url: string; batchSize: number }) {
  const db = new PouchDB(`bench-pouch-${Date.now()}`)
  const t0 = performance.now()
  const result = await db.replicate.from(options.url, { batch_size: options.batchSize })
  const seconds = (performance.now() - t0) / 1000
  const info = await db.info()
  await db.close()
  if (!result.ok || result.doc_write_failures > 0)
    throw new Error(`PouchDB replication failed: ${JSON.stringify(result).slice(0, 500)}`)
  return { seconds, written: result.docs_written, stored: info.doc_count, adapter: info.adapter }
}

/** What the push below needs of pouchdb-browser beyond the module's declared types (pouchdb-browser.d.ts). */
interface PouchPushDatabase {
  bulkDocs(docs: object[]): Promise<{ ok?: boolean; error?: unknown }[]>
  replicate: {
    to(
      target: string,
      options?: { batch_size?: number },
    ): Promise<{
      ok: boolean
      docs_read: number
      docs_written: number
      doc_write_failures: number
    }>
  }
  close(): Promise<void>
}

/**
 * Push of `n` households created offline, PouchDB's: the same households (the same ids as the pull comparison, the
 * user's grids alternating) written to a new database on PouchDB's IndexedDB adapter, then `replicate.to` the
 * CouchDB-style server until the replication completes. The wire is counted at the server (tests/bench/pushPeer.ts).
 */
async function pouchPushRun(options: { url: string; n: number; grids: string[]; batchSize: number }) {
  const db = new PouchDB(`bench-pouch-push-${Date.now()}`) as unknown as PouchPushDatabase
  const t0 = performance.now()
  for (let start = 0; start < options.n; start += PAGE) {
    const docs = []
    for (let i = start; i < Math.min(options.n, start + PAGE); i++)
      docs.push({
        _id: `0190a000-0000-7000-8000-${String(i + 1).padStart(12, '0')}`,
        kind: 'household',
        ...benchHousehold(i),
        gridId: options.grids[i % options.grids.length]!,
      })
    const results = await db.bulkDocs(docs)
    if (results.some((r) => r.error)) throw new Error('PouchDB could not store the households')
  }
  const captureSeconds = (performance.now() - t0) / 1000
  const t1 = performance.now()
  const result = await db.replicate.to(options.url, { batch_size: options.batchSize })
  const seconds = (performance.now() - t1) / 1000
  await db.close()
  if (!result.ok || result.doc_write_failures > 0)
    throw new Error(`PouchDB replication failed: ${JSON.stringify(result).slice(0, 500)}`)
  return { n: options.n, captureSeconds, seconds, written: result.docs_written }
}

declare global {
  interface Window {
    gridpatrolBench: {
      run: typeof run
      pushRun: typeof pushRun
      pullRun: typeof pullRun
      pouchRun: typeof pouchRun
      rawRun: typeof rawRun
      rawIndexedRun: typeof rawIndexedRun
      pouchPushRun: typeof pouchPushRun
    }
  }
}
window.gridpatrolBench = { run, pushRun, pullRun, pouchRun, rawRun, rawIndexedRun, pouchPushRun }
