import type Database from 'better-sqlite3'
import type { Kysely, Selectable } from 'kysely'
import type { OpResult } from '#shared/sync/protocol.ts'
import type { Database as Tables, RecordsTable } from './database.ts'
import { KyselyOps, SQLITE_DIALECT, opWriteRowsOf, recordOf } from './KyselyOps.ts'
import type { AppliedResultRow, StoredRecord, StoredWrite } from './SyncStore.ts'

const json = (value: unknown): string => JSON.stringify(value ?? null)

/** The push path's statements, prepared once per connection (after the migrations made their tables). */
export interface HotStatements {
  getRecord: Database.Statement<[string], Selectable<RecordsTable>>
  saveRecord: Database.Statement<unknown[]>
  insertOpRow: Database.Statement<unknown[]>
  getAppliedResult: Database.Statement<[string, number], { result: string }>
  saveAppliedResult: Database.Statement<unknown[]>
}

export function prepareHotStatements(sqlite: Database.Database): HotStatements {
  return {
    getRecord: sqlite.prepare<[string], Selectable<RecordsTable>>('select * from records where id = ?'),
    saveRecord: sqlite.prepare(
      `insert into records (id, kind, grid_id, village_id, town_id, county_id, fields, stamps, deleted, seq,
         created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       on conflict (id) do update set kind = excluded.kind, grid_id = excluded.grid_id,
         village_id = excluded.village_id, town_id = excluded.town_id, county_id = excluded.county_id,
         fields = excluded.fields, stamps = excluded.stamps, deleted = excluded.deleted, seq = excluded.seq,
         updated_at = excluded.updated_at`,
    ),
    insertOpRow: sqlite.prepare(
      `insert into op_writes (record_id, stamp, writes, device_id, user_id, server_seq, received_at)
       values (?, ?, ?, ?, ?, ?, ?) on conflict (record_id, stamp) do nothing`,
    ),
    getAppliedResult: sqlite.prepare<[string, number], { result: string }>(
      'select result from applied_ops where device_id = ? and op_seq = ?',
    ),
    saveAppliedResult: sqlite.prepare(
      'insert into applied_ops (device_id, op_seq, record_id, result, applied_at) values (?, ?, ?, ?, ?)',
    ),
  }
}

/**
 * The store's operations inside a SQLite transaction: the shared Kysely queries, except the push path's bulk reads
 * and writes, which run as prepared better-sqlite3 statements, one row at a time.
 *
 * Why: a push of 500 households spent most of its store time building and compiling multi-row queries with the query
 * builder (an operation node per value), not in SQLite; a prepared single-row statement costs a few microseconds.
 * Same SQL meaning as KyselyOps' versions (the server suite runs both).
 *
 * Invariant: these statements run on the connection that holds the open transaction (better-sqlite3 is synchronous
 * and the store has one connection, which the transaction holds until it ends), so they are part of it.
 */
export class SqliteOps extends KyselyOps {
  constructor(
    db: Kysely<Tables>,
    private readonly hot: HotStatements,
  ) {
    super(db, SQLITE_DIALECT)
  }

  override async getRecord(id: string): Promise<StoredRecord | null> {
    const row = this.hot.getRecord.get(id)
    return row ? recordOf(row) : null
  }

  override async getRecords(ids: readonly string[]): Promise<StoredRecord[]> {
    const found: StoredRecord[] = []
    for (const id of ids) {
      const row = this.hot.getRecord.get(id)
      if (row) found.push(recordOf(row))
    }
    return found
  }

  override async saveRecords(records: readonly StoredRecord[]): Promise<void> {
    for (const r of records) {
      this.hot.saveRecord.run(
        r.id,
        r.kind,
        r.scope.gridId,
        r.scope.villageId,
        r.scope.townId,
        r.scope.countyId,
        json(r.fields),
        json(r.stamps),
        r.deleted ? 1 : 0,
        r.seq,
        r.createdAt,
        r.updatedAt,
      )
    }
  }

  override async insertWritesOf(writes: readonly (StoredWrite & { recordId: string })[]): Promise<void> {
    for (const row of opWriteRowsOf(writes)) {
      this.hot.insertOpRow.run(
        row.record_id,
        row.stamp,
        row.writes,
        row.device_id,
        row.user_id,
        row.server_seq,
        row.received_at,
      )
    }
  }

  override async getAppliedResult(deviceId: string, opSeq: number): Promise<OpResult | null> {
    const row = this.hot.getAppliedResult.get(deviceId, opSeq)
    return row ? (JSON.parse(row.result) as OpResult) : null
  }

  override async getAppliedResults(
    deviceId: string,
    opSeqs: readonly number[],
  ): Promise<Map<number, OpResult>> {
    const answers = new Map<number, OpResult>()
    for (const seq of opSeqs) {
      const row = this.hot.getAppliedResult.get(deviceId, seq)
      if (row) answers.set(seq, JSON.parse(row.result) as OpResult)
    }
    return answers
  }

  override async saveAppliedResults(rows: readonly AppliedResultRow[]): Promise<void> {
    for (const row of rows) {
      this.hot.saveAppliedResult.run(row.deviceId, row.opSeq, row.recordId, json(row.result), row.appliedAt)
    }
  }
}
