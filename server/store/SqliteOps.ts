import type Database from 'better-sqlite3'
import type { Kysely, Selectable } from 'kysely'
import type { OpResult } from '#shared/sync/protocol.ts'
import type { Database as Tables, RecordsTable } from './database.ts'
import { KyselyOps, SQLITE_DIALECT, recordOf } from './KyselyOps.ts'
import type { AppliedResultRow, OpHistoryRow, StoredRecord } from './SyncStore.ts'
import { encodeStamps } from './storedText.ts'

const json = (value: unknown): string => JSON.stringify(value ?? null)

/** How many rows one multi-row statement writes (a batch's remainder goes through the one-row statement). */
export const ROWS_PER_STATEMENT = 50

const RECORD_COLUMNS = `id, kind, grid_id, village_id, town_id, county_id, fields, stamps, deleted, seq, created_at, updated_at`
const RECORD_UPSERT = `on conflict (id) do update set kind = excluded.kind, grid_id = excluded.grid_id,
  village_id = excluded.village_id, town_id = excluded.town_id, county_id = excluded.county_id,
  fields = excluded.fields, stamps = excluded.stamps, deleted = excluded.deleted, seq = excluded.seq,
  updated_at = excluded.updated_at`
const OP_ROW_COLUMNS = 'record_id, stamp, writes, device_id, user_id, server_seq, received_at'
const ANSWER_COLUMNS = 'device_id, op_seq, record_id, result, applied_at'

/** `(?, ?, ?), (?, ?, ?)`: `rows` tuples of `width` parameters. */
const tuples = (rows: number, width: number): string =>
  Array.from({ length: rows }, () => `(${Array.from({ length: width }, () => '?').join(', ')})`).join(', ')

/** An insert prepared twice: for one row, and for ROWS_PER_STATEMENT rows in one statement. */
export interface RowWriter {
  one: Database.Statement<unknown[]>
  many: Database.Statement<unknown[]>
}

function rowWriter(sqlite: Database.Database, sql: (values: string) => string, width: number): RowWriter {
  return {
    one: sqlite.prepare(sql(tuples(1, width))),
    many: sqlite.prepare(sql(tuples(ROWS_PER_STATEMENT, width))),
  }
}

/**
 * Write `rows` through `writer`: full chunks as one multi-row statement each, the rest one row at a time.
 * Why: a statement's fixed cost (its VDBE program run, the foreign key and AUTOINCREMENT bookkeeping at its end) is
 * paid once per 50 rows; the records' inserts took about 40% less time. Same meaning as one statement per row, in
 * order: an upsert's later tuple sees the earlier ones, and a failing row fails the batch's transaction either way.
 */
function writeRows<T>(writer: RowWriter, rows: readonly T[], bind: (row: T, to: unknown[]) => void): void {
  const full = rows.length - (rows.length % ROWS_PER_STATEMENT)
  const params: unknown[] = []
  for (let start = 0; start < full; start += ROWS_PER_STATEMENT) {
    params.length = 0
    for (let i = start; i < start + ROWS_PER_STATEMENT; i++) bind(rows[i]!, params)
    writer.many.run(params)
  }
  const one: unknown[] = []
  for (let i = full; i < rows.length; i++) {
    one.length = 0
    bind(rows[i]!, one)
    writer.one.run(one)
  }
}

/** The push path's statements, prepared once per connection (after the migrations made their tables). */
export interface HotStatements {
  getRecord: Database.Statement<[string], Selectable<RecordsTable>>
  /** The records among a JSON array of ids. */
  getRecords: Database.Statement<[string], Selectable<RecordsTable>>
  saveRecords: RowWriter
  insertOpRows: RowWriter
  getAppliedResult: Database.Statement<[string, number], { result: string }>
  /** A device's answers among a JSON array of op seqs. */
  getAppliedResults: Database.Statement<[string, string], { op_seq: number; result: string }>
  saveAppliedResults: RowWriter
}

export function prepareHotStatements(sqlite: Database.Database): HotStatements {
  return {
    getRecord: sqlite.prepare<[string], Selectable<RecordsTable>>('select * from records where id = ?'),
    // One statement for a batch's ids (an index search per id inside SQLite): a fifth of the time of one call per id.
    getRecords: sqlite.prepare<[string], Selectable<RecordsTable>>(
      'select * from records where id in (select value from json_each(?))',
    ),
    saveRecords: rowWriter(
      sqlite,
      (values) => `insert into records (${RECORD_COLUMNS}) values ${values} ${RECORD_UPSERT}`,
      12,
    ),
    insertOpRows: rowWriter(
      sqlite,
      (values) =>
        `insert into op_writes (${OP_ROW_COLUMNS}) values ${values} on conflict (record_id, stamp) do nothing`,
      7,
    ),
    getAppliedResult: sqlite.prepare<[string, number], { result: string }>(
      'select result from applied_ops where device_id = ? and op_seq = ?',
    ),
    getAppliedResults: sqlite.prepare<[string, string], { op_seq: number; result: string }>(
      'select op_seq, result from applied_ops where device_id = ? and op_seq in (select value from json_each(?))',
    ),
    saveAppliedResults: rowWriter(
      sqlite,
      (values) => `insert into applied_ops (${ANSWER_COLUMNS}) values ${values}`,
      5,
    ),
  }
}

/**
 * The store's operations inside a SQLite transaction: the shared Kysely queries, except the push path's bulk reads
 * and writes, which run as prepared better-sqlite3 statements: reads of a batch's ids as one statement over a JSON
 * array, writes as statements of ROWS_PER_STATEMENT rows.
 *
 * Why: a push of 500 households spent most of its store time building and compiling multi-row queries with the query
 * builder (an operation node per value), not in SQLite; a prepared statement is compiled once per connection.
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
    if (ids.length === 0) return []
    return this.hot.getRecords.all(JSON.stringify(ids)).map(recordOf)
  }

  override async saveRecords(records: readonly StoredRecord[]): Promise<void> {
    writeRows(this.hot.saveRecords, records, (r, to) => {
      to.push(
        r.id,
        r.kind,
        r.scope.gridId,
        r.scope.villageId,
        r.scope.townId,
        r.scope.countyId,
        json(r.fields),
        encodeStamps(r.stamps),
        r.deleted ? 1 : 0,
        r.seq,
        r.createdAt,
        r.updatedAt,
      )
    })
  }

  override async insertOpRows(rows: readonly OpHistoryRow[]): Promise<void> {
    writeRows(this.hot.insertOpRows, rows, (row, to) => {
      to.push(
        row.record_id,
        row.stamp,
        row.writes,
        row.device_id,
        row.user_id,
        row.server_seq,
        row.received_at,
      )
    })
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
    if (opSeqs.length === 0) return answers
    for (const row of this.hot.getAppliedResults.all(deviceId, JSON.stringify(opSeqs))) {
      answers.set(row.op_seq, JSON.parse(row.result) as OpResult)
    }
    return answers
  }

  override async saveAppliedResults(rows: readonly AppliedResultRow[]): Promise<void> {
    writeRows(this.hot.saveAppliedResults, rows, (row, to) => {
      to.push(row.deviceId, row.opSeq, row.recordId, json(row.result), row.appliedAt)
    })
  }
}
