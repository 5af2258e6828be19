import Database from 'better-sqlite3'
import { Kysely, Migrator, SqliteDialect } from 'kysely'
import type { Selectable } from 'kysely'
import type { RecordKind } from '#shared/schemas/records.ts'
import type { Stamp } from '#shared/sync/hlc.ts'
import type { OpResult, Scope } from '#shared/sync/protocol.ts'
import type { Database as Tables, RecordsTable } from './database.ts'
import { migrationProvider } from './migrations/migrationProvider.ts'
import type {
  Area,
  ConflictRow,
  GeoPolygon,
  NewConflict,
  NewSession,
  NewUser,
  Session,
  StoreOps,
  StoredRecord,
  StoredWrite,
  SyncStore,
  User,
} from './SyncStore.ts'

const json = (value: unknown): string => JSON.stringify(value ?? null)
const parse = <T>(text: string): T => JSON.parse(text) as T
const conflictKey = (c: { field: string; loserStamp: string; type: string }) =>
  `${c.type}\u0000${c.field}\u0000${c.loserStamp}`

class SqliteOps implements StoreOps {
  constructor(protected readonly db: Kysely<Tables>) {}

  async countAreas(): Promise<number> {
    const row = await this.db
      .selectFrom('areas')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    return row.n
  }

  async listAreas(): Promise<Area[]> {
    const rows = await this.db.selectFrom('areas').selectAll().orderBy('id').execute()
    return rows.map((r) => ({
      id: r.id,
      level: r.level,
      name: r.name,
      parentId: r.parent_id,
      geometry: r.geometry === null ? null : parse<GeoPolygon>(r.geometry),
      centroid:
        r.centroid_lat === null || r.centroid_lng === null
          ? null
          : { lat: r.centroid_lat, lng: r.centroid_lng },
    }))
  }

  async insertAreas(areas: readonly Area[]): Promise<void> {
    if (areas.length === 0) return
    await this.db
      .insertInto('areas')
      .values(
        areas.map((a) => ({
          id: a.id,
          level: a.level,
          name: a.name,
          parent_id: a.parentId,
          geometry: a.geometry === null ? null : json(a.geometry),
          centroid_lat: a.centroid?.lat ?? null,
          centroid_lng: a.centroid?.lng ?? null,
        })),
      )
      .execute()
  }

  async scopeOfGrid(gridId: string): Promise<Scope | null> {
    const row = await this.db
      .selectFrom('areas as g')
      .innerJoin('areas as v', 'v.id', 'g.parent_id')
      .innerJoin('areas as t', 't.id', 'v.parent_id')
      .innerJoin('areas as c', 'c.id', 't.parent_id')
      .where('g.id', '=', gridId)
      .where('g.level', '=', 'grid')
      .select(['g.id as gridId', 'v.id as villageId', 't.id as townId', 'c.id as countyId'])
      .executeTakeFirst()
    return row ?? null
  }

  async insertUser(user: NewUser): Promise<void> {
    await this.db
      .insertInto('users')
      .values({
        id: user.id,
        username: user.username,
        display_name: user.displayName,
        role: user.role,
        password_hash: user.passwordHash,
        created_at: user.createdAt,
      })
      .execute()
    if (user.areaIds.length > 0) {
      await this.db
        .insertInto('user_areas')
        .values(user.areaIds.map((areaId) => ({ user_id: user.id, area_id: areaId })))
        .execute()
    }
  }

  async findUserByUsername(username: string): Promise<(User & { passwordHash: string }) | null> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst()
    if (!row) return null
    return { ...(await this.userOf(row)), passwordHash: row.password_hash }
  }

  private async userOf(row: {
    id: string
    username: string
    display_name: string
    role: User['role']
  }): Promise<User> {
    const areas = await this.db
      .selectFrom('user_areas')
      .select('area_id')
      .where('user_id', '=', row.id)
      .orderBy('area_id')
      .execute()
    return {
      id: row.id,
      username: row.username,
      displayName: row.display_name,
      role: row.role,
      areaIds: areas.map((a) => a.area_id),
    }
  }

  async insertSession(session: NewSession): Promise<void> {
    await this.db
      .insertInto('sessions')
      .values({
        token_hash: session.tokenHash,
        user_id: session.userId,
        device_id: session.deviceId,
        created_at: session.createdAt,
        expires_at: session.expiresAt,
      })
      .execute()
  }

  async findSession(tokenHash: string, now: number): Promise<Session | null> {
    const row = await this.db
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .where('s.token_hash', '=', tokenHash)
      .where('s.expires_at', '>', now)
      .select(['u.id', 'u.username', 'u.display_name', 'u.role', 's.device_id', 's.expires_at'])
      .executeTakeFirst()
    if (!row) return null
    return { user: await this.userOf(row), deviceId: row.device_id, expiresAt: row.expires_at }
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute()
  }

  async touchDevice(deviceId: string, userId: string, now: number): Promise<void> {
    await this.db
      .insertInto('devices')
      .values({ id: deviceId, user_id: userId, first_seen_at: now, last_seen_at: now })
      .onConflict((oc) => oc.column('id').doUpdateSet({ user_id: userId, last_seen_at: now }))
      .execute()
  }

  async getAppliedResult(deviceId: string, opSeq: number): Promise<OpResult | null> {
    const row = await this.db
      .selectFrom('applied_ops')
      .select('result')
      .where('device_id', '=', deviceId)
      .where('op_seq', '=', opSeq)
      .executeTakeFirst()
    return row ? parse<OpResult>(row.result) : null
  }

  async saveAppliedResult(
    deviceId: string,
    opSeq: number,
    recordId: string,
    result: OpResult,
    now: number,
  ): Promise<void> {
    await this.db
      .insertInto('applied_ops')
      .values({
        device_id: deviceId,
        op_seq: opSeq,
        record_id: recordId,
        result: json(result),
        applied_at: now,
      })
      .execute()
  }

  async getRecord(id: string): Promise<StoredRecord | null> {
    const row = await this.db.selectFrom('records').selectAll().where('id', '=', id).executeTakeFirst()
    return row ? recordOf(row) : null
  }

  async saveRecord(record: StoredRecord): Promise<void> {
    const row = {
      id: record.id,
      kind: record.kind,
      grid_id: record.scope.gridId,
      village_id: record.scope.villageId,
      town_id: record.scope.townId,
      county_id: record.scope.countyId,
      fields: json(record.fields),
      stamps: json(record.stamps),
      deleted: record.deleted ? 1 : 0,
      seq: record.seq,
      created_at: record.createdAt,
      updated_at: record.updatedAt,
    }
    const { id: _id, created_at: _created, ...changes } = row
    await this.db
      .insertInto('records')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet(changes))
      .execute()
  }

  async nextSeq(): Promise<number> {
    const row = await this.db
      .updateTable('server_state')
      .set((eb) => ({ seq: eb('seq', '+', 1) }))
      .where('id', '=', 1)
      .returning('seq')
      .executeTakeFirstOrThrow()
    return row.seq
  }

  async insertWrites(recordId: string, writes: readonly StoredWrite[]): Promise<void> {
    if (writes.length === 0) return
    await this.db
      .insertInto('field_writes')
      .values(
        writes.map((w) => ({
          record_id: recordId,
          field: w.field,
          stamp: w.stamp,
          base: w.base,
          value: json(w.value),
          context: w.context === undefined ? null : json(w.context),
          device_id: w.deviceId,
          user_id: w.userId,
          server_seq: w.serverSeq,
          received_at: w.receivedAt,
        })),
      )
      .onConflict((oc) => oc.columns(['record_id', 'field', 'stamp']).doNothing())
      .execute()
  }

  async listWrites(recordId: string): Promise<StoredWrite[]> {
    const rows = await this.db
      .selectFrom('field_writes')
      .selectAll()
      .where('record_id', '=', recordId)
      .orderBy('id')
      .execute()
    return rows.map((r) => ({
      field: r.field,
      stamp: r.stamp,
      base: r.base,
      value: parse<unknown>(r.value),
      ...(r.context === null ? {} : { context: parse<Record<string, Stamp | null>>(r.context) }),
      deviceId: r.device_id,
      userId: r.user_id,
      serverSeq: r.server_seq,
      receivedAt: r.received_at,
    }))
  }

  async replaceConflicts(recordId: string, conflicts: readonly NewConflict[], now: number): Promise<void> {
    const existing = await this.listConflicts(recordId)
    const byKey = new Map(existing.map((c) => [conflictKey(c), c]))
    const wanted = new Set<string>()
    for (const c of conflicts) {
      const key = conflictKey(c)
      wanted.add(key)
      const old = byKey.get(key)
      if (old && (old.resolvedAt !== null || old.winnerStamp === c.winnerStamp)) continue
      if (old) {
        await this.db
          .updateTable('conflicts')
          .set({ winner_stamp: c.winnerStamp, winner_value: json(c.winnerValue) })
          .where('id', '=', old.id)
          .execute()
        continue
      }
      await this.db
        .insertInto('conflicts')
        .values({
          record_id: recordId,
          field: c.field,
          type: c.type,
          winner_stamp: c.winnerStamp,
          winner_value: json(c.winnerValue),
          loser_stamp: c.loserStamp,
          loser_value: json(c.loserValue),
          loser_device_id: c.loserDeviceId,
          loser_user_id: c.loserUserId,
          created_at: now,
          resolved_at: null,
          resolved_by: null,
        })
        .execute()
    }
    const stale = existing
      .filter((c) => c.resolvedAt === null && !wanted.has(conflictKey(c)))
      .map((c) => c.id)
    if (stale.length > 0) await this.db.deleteFrom('conflicts').where('id', 'in', stale).execute()
  }

  async listConflicts(recordId: string): Promise<ConflictRow[]> {
    const rows = await this.db
      .selectFrom('conflicts')
      .selectAll()
      .where('record_id', '=', recordId)
      .orderBy('id')
      .execute()
    return rows.map((r) => ({
      id: r.id,
      recordId: r.record_id,
      field: r.field,
      type: r.type,
      winnerStamp: r.winner_stamp,
      winnerValue: parse<unknown>(r.winner_value),
      loserStamp: r.loser_stamp,
      loserValue: parse<unknown>(r.loser_value),
      loserDeviceId: r.loser_device_id,
      loserUserId: r.loser_user_id,
      createdAt: r.created_at,
      resolvedAt: r.resolved_at,
      resolvedBy: r.resolved_by,
    }))
  }

  async listRecordsSince(since: number, limit: number): Promise<StoredRecord[]> {
    // The scope filter (next issue) slots in as a WHERE on grid_id/village_id/town_id/county_id, each indexed with seq.
    const rows = await this.db
      .selectFrom('records')
      .selectAll()
      .where('seq', '>', since)
      .orderBy('seq')
      .limit(limit)
      .execute()
    return rows.map(recordOf)
  }

  async loadClock(): Promise<Stamp | null> {
    const row = await this.db
      .selectFrom('server_state')
      .select('clock')
      .where('id', '=', 1)
      .executeTakeFirst()
    return row?.clock ?? null
  }

  async saveClock(stamp: Stamp): Promise<void> {
    await this.db.updateTable('server_state').set({ clock: stamp }).where('id', '=', 1).execute()
  }
}

function recordOf(row: Selectable<RecordsTable>): StoredRecord {
  return {
    id: row.id,
    kind: row.kind satisfies RecordKind,
    fields: parse<Record<string, unknown>>(row.fields),
    stamps: parse<Record<string, Stamp>>(row.stamps),
    deleted: row.deleted === 1,
    seq: row.seq,
    scope: { gridId: row.grid_id, villageId: row.village_id, townId: row.town_id, countyId: row.county_id },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

/**
 * The SQLite adapter of the store port: Kysely over one better-sqlite3 connection.
 * WAL with synchronous=FULL: a push that was answered survives a power cut. Kysely serialises the single
 * connection, so a transaction holds it until it ends and concurrent requests queue behind it.
 */
export class SqliteSyncStore extends SqliteOps implements SyncStore {
  private constructor(readonly kysely: Kysely<Tables>) {
    super(kysely)
  }

  static open(file: string): SqliteSyncStore {
    const sqlite = new Database(file)
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('synchronous = FULL')
    sqlite.pragma('foreign_keys = ON')
    sqlite.pragma('busy_timeout = 5000')
    return new SqliteSyncStore(new Kysely<Tables>({ dialect: new SqliteDialect({ database: sqlite }) }))
  }

  /** Bring the schema up to date; throws with the failing migration's name. */
  async migrate(): Promise<void> {
    const migrator = new Migrator({ db: this.kysely, provider: migrationProvider })
    const { error, results } = await migrator.migrateToLatest()
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown'
      throw new Error(`database migration ${failed} failed: ${String(error)}`, { cause: error })
    }
  }

  transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T> {
    return this.kysely.transaction().execute((trx) => fn(new SqliteOps(trx)))
  }

  async close(): Promise<void> {
    await this.kysely.destroy()
  }
}
