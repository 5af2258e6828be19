import { sql } from 'kysely'
import type { Insertable, Kysely, RawBuilder, Selectable } from 'kysely'
import type { RecordKind } from '#shared/schemas/records.ts'
import type { Stamp } from '#shared/sync/hlc.ts'
import type { OpResult, Scope } from '#shared/sync/protocol.ts'
import { decodeOpWrites, decodeStamps, encodeOpWrites, encodeStamps } from './storedText.ts'
import type {
  AreasTable,
  ConflictResolutionsTable,
  ConflictsTable,
  OpWritesTable,
  Database as Tables,
  PhotosTable,
  RecordsTable,
} from './database.ts'
import type {
  AccessTokenRow,
  AppliedResultRow,
  Area,
  AuditAction,
  AuditEntry,
  AuditSubject,
  ConflictResolutionRow,
  ConflictRow,
  DeviceRow,
  GeoPolygon,
  NewAuditEntry,
  NewConflict,
  NewSession,
  NewUser,
  OpHistoryRow,
  OpenConflict,
  PhotoRow,
  RecordExit,
  RecordFilter,
  RefreshTokenRow,
  SessionFilter,
  StoreOps,
  StoredRecord,
  StoredWrite,
  User,
  UserAccount,
  UserChanges,
} from './SyncStore.ts'

const json = (value: unknown): string => JSON.stringify(value ?? null)
const parse = <T>(text: string): T => JSON.parse(text) as T
const conflictKey = (c: { field: string; loserStamp: string; type: string }) =>
  `${c.type}\u0000${c.field}\u0000${c.loserStamp}`

/** What differs between the SQL databases the store runs on; every other query is the same Kysely query on both. */
export interface StoreDialect {
  name: 'sqlite' | 'postgres'
  /** The larger of two values of one row (SQLite's scalar `max`, PostgreSQL's `greatest`). */
  greatest: 'max' | 'greatest'
  /** The `sha256` field of a record's JSON `fields` (the expression the photo index is built on). */
  photoSha: RawBuilder<string>
}

export const SQLITE_DIALECT: StoreDialect = {
  name: 'sqlite',
  greatest: 'max',
  photoSha: sql<string>`json_extract(fields, '$.sha256')`,
}

export const POSTGRES_DIALECT: StoreDialect = {
  name: 'postgres',
  greatest: 'greatest',
  // Matches the expression index records_photo_sha of the PostgreSQL schema (pg/001_initial).
  photoSha: sql<string>`(fields::jsonb ->> 'sha256')`,
}

/**
 * The store's operations as Kysely queries, shared by the SQLite and the PostgreSQL adapters. Both schemas keep the
 * same tables and column meanings: JSON as text, times as epoch ms integers, flags as 0/1 integers, so rows read the
 * same on both. Only what `StoreDialect` names differs; transactions and locking are the adapters' business.
 */
export class KyselyOps implements StoreOps {
  constructor(
    protected readonly db: Kysely<Tables>,
    readonly dialect: StoreDialect,
  ) {}

  async countAreas(): Promise<number> {
    const row = await this.db
      .selectFrom('areas')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    return row.n
  }

  async listAreas(): Promise<Area[]> {
    const rows = await this.db.selectFrom('areas').selectAll().orderBy('id').execute()
    return rows.map(areaOf)
  }

  async getArea(id: string): Promise<Area | null> {
    const row = await this.db.selectFrom('areas').selectAll().where('id', '=', id).executeTakeFirst()
    return row ? areaOf(row) : null
  }

  async updateArea(
    id: string,
    changes: Partial<Pick<Area, 'name' | 'parentId' | 'geometry' | 'centroid'>>,
  ): Promise<void> {
    const set: Partial<Omit<AreasTable, 'id' | 'level'>> = {}
    if (changes.name !== undefined) set.name = changes.name
    if (changes.parentId !== undefined) set.parent_id = changes.parentId
    if (changes.geometry !== undefined)
      set.geometry = changes.geometry === null ? null : json(changes.geometry)
    if (changes.centroid !== undefined) {
      set.centroid_lat = changes.centroid?.lat ?? null
      set.centroid_lng = changes.centroid?.lng ?? null
    }
    if (Object.keys(set).length === 0) return
    await this.db.updateTable('areas').set(set).where('id', '=', id).execute()
  }

  async areasVersion(): Promise<number> {
    const row = await this.db
      .selectFrom('server_state')
      .select('areas_version')
      .where('id', '=', 1)
      .executeTakeFirstOrThrow()
    return row.areas_version
  }

  async bumpAreasVersion(): Promise<number> {
    const row = await this.db
      .updateTable('server_state')
      .set((eb) => ({ areas_version: eb('areas_version', '+', 1) }))
      .where('id', '=', 1)
      .returning('areas_version')
      .executeTakeFirstOrThrow()
    return row.areas_version
  }

  async moveGridRecords(gridId: string, scope: Scope): Promise<number> {
    const rows = await this.db
      .selectFrom('records')
      .select('id')
      .where('grid_id', '=', gridId)
      .orderBy('seq')
      .execute()
    for (const { id } of rows) {
      await this.db
        .updateTable('records')
        .set({
          village_id: scope.villageId,
          town_id: scope.townId,
          county_id: scope.countyId,
          seq: await this.nextSeq(),
        })
        .where('id', '=', id)
        .execute()
    }
    return rows.length
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
    await this.setUserAreas(user.id, user.areaIds)
  }

  async findUserByUsername(
    username: string,
  ): Promise<(User & { passwordHash: string; disabled: boolean }) | null> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst()
    if (!row) return null
    return { ...(await this.userOf(row)), passwordHash: row.password_hash, disabled: row.disabled === 1 }
  }

  async getUser(id: string): Promise<UserAccount | null> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
    if (!row) return null
    return { ...(await this.userOf(row)), disabled: row.disabled === 1, createdAt: row.created_at }
  }

  async listUsers(): Promise<UserAccount[]> {
    const rows = await this.db.selectFrom('users').selectAll().orderBy('username').execute()
    const links = await this.db.selectFrom('user_areas').selectAll().orderBy('area_id').execute()
    const areasOf = new Map<string, string[]>()
    for (const link of links) areasOf.set(link.user_id, [...(areasOf.get(link.user_id) ?? []), link.area_id])
    return rows.map((r) => ({
      id: r.id,
      username: r.username,
      displayName: r.display_name,
      role: r.role,
      areaIds: areasOf.get(r.id) ?? [],
      disabled: r.disabled === 1,
      createdAt: r.created_at,
    }))
  }

  async updateUser(id: string, changes: UserChanges): Promise<void> {
    const set: { display_name?: string; role?: User['role']; password_hash?: string; disabled?: number } = {}
    if (changes.displayName !== undefined) set.display_name = changes.displayName
    if (changes.role !== undefined) set.role = changes.role
    if (changes.passwordHash !== undefined) set.password_hash = changes.passwordHash
    if (changes.disabled !== undefined) set.disabled = changes.disabled ? 1 : 0
    if (Object.keys(set).length === 0) return
    await this.db.updateTable('users').set(set).where('id', '=', id).execute()
  }

  async setUserAreas(id: string, areaIds: readonly string[]): Promise<void> {
    await this.db.deleteFrom('user_areas').where('user_id', '=', id).execute()
    if (areaIds.length === 0) return
    await this.db
      .insertInto('user_areas')
      .values([...new Set(areaIds)].map((areaId) => ({ user_id: id, area_id: areaId })))
      .execute()
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
        id: session.id,
        user_id: session.userId,
        device_id: session.deviceId,
        created_at: session.createdAt,
        expires_at: session.expiresAt,
        revoked_at: null,
        revoked_reason: null,
      })
      .execute()
  }

  async insertAccessToken(token: { tokenHash: string; sessionId: string; expiresAt: number }): Promise<void> {
    await this.db
      .insertInto('access_tokens')
      .values({ token_hash: token.tokenHash, session_id: token.sessionId, expires_at: token.expiresAt })
      .execute()
  }

  async insertRefreshToken(token: {
    tokenHash: string
    sessionId: string
    createdAt: number
    expiresAt: number
  }): Promise<void> {
    await this.db
      .insertInto('refresh_tokens')
      .values({
        token_hash: token.tokenHash,
        session_id: token.sessionId,
        created_at: token.createdAt,
        expires_at: token.expiresAt,
        rotated_at: null,
      })
      .execute()
  }

  async findAccessToken(tokenHash: string): Promise<AccessTokenRow | null> {
    const row = await this.db
      .selectFrom('access_tokens as a')
      .innerJoin('sessions as s', 's.id', 'a.session_id')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .where('a.token_hash', '=', tokenHash)
      .select([
        'a.expires_at',
        's.id as session_id',
        's.device_id',
        's.revoked_at',
        'u.id',
        'u.username',
        'u.display_name',
        'u.role',
        'u.disabled',
      ])
      .executeTakeFirst()
    if (!row) return null
    return {
      sessionId: row.session_id,
      deviceId: row.device_id,
      expiresAt: row.expires_at,
      revokedAt: row.revoked_at,
      user: { ...(await this.userOf(row)), disabled: row.disabled === 1 },
    }
  }

  async findRefreshToken(tokenHash: string): Promise<RefreshTokenRow | null> {
    const row = await this.db
      .selectFrom('refresh_tokens as r')
      .innerJoin('sessions as s', 's.id', 'r.session_id')
      .where('r.token_hash', '=', tokenHash)
      .select([
        'r.token_hash',
        'r.expires_at',
        'r.rotated_at',
        's.id',
        's.user_id',
        's.device_id',
        's.revoked_at',
      ])
      .executeTakeFirst()
    if (!row) return null
    return {
      tokenHash: row.token_hash,
      sessionId: row.id,
      userId: row.user_id,
      deviceId: row.device_id,
      expiresAt: row.expires_at,
      rotatedAt: row.rotated_at,
      revokedAt: row.revoked_at,
    }
  }

  async markRefreshTokenRotated(tokenHash: string, now: number): Promise<void> {
    await this.db
      .updateTable('refresh_tokens')
      .set({ rotated_at: now })
      .where('token_hash', '=', tokenHash)
      .execute()
  }

  async setSessionExpiry(sessionId: string, expiresAt: number): Promise<void> {
    await this.db.updateTable('sessions').set({ expires_at: expiresAt }).where('id', '=', sessionId).execute()
  }

  async pruneSessionTokens(sessionId: string, accessBefore: number, now: number): Promise<void> {
    await this.db
      .deleteFrom('access_tokens')
      .where('session_id', '=', sessionId)
      .where('expires_at', '<=', accessBefore)
      .execute()
    await this.db
      .deleteFrom('refresh_tokens')
      .where('session_id', '=', sessionId)
      .where('rotated_at', 'is not', null)
      .where('expires_at', '<=', now)
      .execute()
  }

  async pruneExpiredSessions(now: number): Promise<void> {
    // Tokens go with their session (on delete cascade).
    await this.db.deleteFrom('sessions').where('expires_at', '<=', now).execute()
  }

  async revokeSessions(filter: SessionFilter, now: number, reason: string): Promise<number> {
    let query = this.db
      .updateTable('sessions')
      .set({ revoked_at: now, revoked_reason: reason })
      .where('revoked_at', 'is', null)
    if ('sessionId' in filter) query = query.where('id', '=', filter.sessionId)
    else if ('deviceId' in filter) query = query.where('device_id', '=', filter.deviceId)
    else query = query.where('user_id', '=', filter.userId)
    const result = await query.executeTakeFirst()
    return Number(result.numUpdatedRows)
  }

  async listLoginFailures(key: string, since: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('login_failures')
      .select('at')
      .where('key', '=', key)
      .where('at', '>=', since)
      .orderBy('at')
      .execute()
    return rows.map((r) => r.at)
  }

  async insertLoginFailure(key: string, at: number): Promise<void> {
    await this.db.insertInto('login_failures').values({ key, at }).execute()
  }

  async clearLoginFailures(key: string): Promise<void> {
    await this.db.deleteFrom('login_failures').where('key', '=', key).execute()
  }

  async pruneLoginFailures(before: number): Promise<void> {
    await this.db.deleteFrom('login_failures').where('at', '<', before).execute()
  }

  async touchDevice(deviceId: string, userId: string, now: number): Promise<void> {
    await this.db
      .insertInto('devices')
      .values({ id: deviceId, user_id: userId, first_seen_at: now, last_seen_at: now })
      .onConflict((oc) => oc.column('id').doUpdateSet({ user_id: userId, last_seen_at: now }))
      .execute()
  }

  private devicesQuery() {
    return this.db
      .selectFrom('devices as d')
      .innerJoin('users as u', 'u.id', 'd.user_id')
      .select([
        'd.id',
        'd.user_id',
        'u.username',
        'u.display_name',
        'd.first_seen_at',
        'd.last_seen_at',
        'd.wipe_requested_at',
        'd.wiped_at',
      ])
  }

  async getDevice(id: string): Promise<DeviceRow | null> {
    const row = await this.devicesQuery().where('d.id', '=', id).executeTakeFirst()
    return row ? deviceOf(row) : null
  }

  async listDevices(): Promise<DeviceRow[]> {
    const rows = await this.devicesQuery().orderBy('d.last_seen_at', 'desc').orderBy('d.id').execute()
    return rows.map(deviceOf)
  }

  async requestWipe(id: string, by: string, now: number): Promise<void> {
    await this.db
      .updateTable('devices')
      .set({ wipe_requested_at: now, wipe_requested_by: by, wiped_at: null })
      .where('id', '=', id)
      .execute()
  }

  async markWiped(id: string, now: number): Promise<void> {
    await this.db.updateTable('devices').set({ wiped_at: now }).where('id', '=', id).execute()
  }

  async insertAudit(entry: NewAuditEntry): Promise<number> {
    const row = await this.db
      .insertInto('audit_log')
      .values({
        at: entry.at,
        user_id: entry.userId,
        device_id: entry.deviceId,
        action: entry.action,
        record_kind: entry.recordKind,
        record_id: entry.recordId,
        field: entry.field,
        detail: entry.detail === null ? null : json(entry.detail),
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    const areaIds = [...new Set(entry.areaIds)]
    if (areaIds.length > 0) {
      await this.db
        .insertInto('audit_areas')
        .values(areaIds.map((areaId) => ({ audit_id: row.id, area_id: areaId })))
        .execute()
    }
    return row.id
  }

  async listAudit({
    areaIds,
    before,
    limit,
  }: {
    areaIds: readonly string[] | null
    before?: number
    limit: number
  }): Promise<AuditEntry[]> {
    if (areaIds !== null && areaIds.length === 0) return []
    let query = this.db
      .selectFrom('audit_log as l')
      .innerJoin('users as u', 'u.id', 'l.user_id')
      .selectAll('l')
      .select('u.username')
      .orderBy('l.id', 'desc')
      .limit(limit)
    if (before !== undefined) query = query.where('l.id', '<', before)
    if (areaIds !== null) {
      query = query.where('l.id', 'in', (eb) =>
        eb
          .selectFrom('audit_areas')
          .select('audit_id')
          .where('area_id', 'in', [...areaIds]),
      )
    }
    const rows = await query.execute()
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      userId: r.user_id,
      username: r.username,
      deviceId: r.device_id,
      action: r.action as AuditAction,
      recordKind: r.record_kind as AuditSubject | null,
      recordId: r.record_id,
      field: r.field,
      detail: r.detail === null ? null : parse<Record<string, unknown>>(r.detail),
    }))
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

  saveAppliedResult(
    deviceId: string,
    opSeq: number,
    recordId: string,
    result: OpResult,
    now: number,
  ): Promise<void> {
    return this.saveAppliedResults([{ deviceId, opSeq, recordId, result, appliedAt: now }])
  }

  async saveAppliedResults(rows: readonly AppliedResultRow[]): Promise<void> {
    for (const chunk of chunksOf(rows, 1000)) {
      await this.db
        .insertInto('applied_ops')
        .values(
          chunk.map((row) => ({
            device_id: row.deviceId,
            op_seq: row.opSeq,
            record_id: row.recordId,
            result: json(row.result),
            applied_at: row.appliedAt,
          })),
        )
        .execute()
    }
  }

  async getRecords(ids: readonly string[]): Promise<StoredRecord[]> {
    const found: StoredRecord[] = []
    for (const chunk of chunksOf(ids, 500)) {
      const rows = await this.db.selectFrom('records').selectAll().where('id', 'in', chunk).execute()
      found.push(...rows.map(recordOf))
    }
    return found
  }

  async getAppliedResults(deviceId: string, opSeqs: readonly number[]): Promise<Map<number, OpResult>> {
    const answers = new Map<number, OpResult>()
    for (const chunk of chunksOf(opSeqs, 500)) {
      const rows = await this.db
        .selectFrom('applied_ops')
        .select(['op_seq', 'result'])
        .where('device_id', '=', deviceId)
        .where('op_seq', 'in', chunk)
        .execute()
      for (const row of rows) answers.set(row.op_seq, parse<OpResult>(row.result))
    }
    return answers
  }

  async getRecord(id: string): Promise<StoredRecord | null> {
    const row = await this.db.selectFrom('records').selectAll().where('id', '=', id).executeTakeFirst()
    return row ? recordOf(row) : null
  }

  saveRecord(record: StoredRecord): Promise<void> {
    return this.saveRecords([record])
  }

  async saveRecords(records: readonly StoredRecord[]): Promise<void> {
    for (const chunk of chunksOf(records, 500)) {
      await this.db
        .insertInto('records')
        .values(
          chunk.map((record) => ({
            id: record.id,
            kind: record.kind,
            grid_id: record.scope.gridId,
            village_id: record.scope.villageId,
            town_id: record.scope.townId,
            county_id: record.scope.countyId,
            fields: json(record.fields),
            stamps: encodeStamps(record.stamps),
            deleted: record.deleted ? 1 : 0,
            seq: record.seq,
            created_at: record.createdAt,
            updated_at: record.updatedAt,
          })),
        )
        // Every column but id and created_at takes the new row's value.
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            kind: eb.ref('excluded.kind'),
            grid_id: eb.ref('excluded.grid_id'),
            village_id: eb.ref('excluded.village_id'),
            town_id: eb.ref('excluded.town_id'),
            county_id: eb.ref('excluded.county_id'),
            fields: eb.ref('excluded.fields'),
            stamps: eb.ref('excluded.stamps'),
            deleted: eb.ref('excluded.deleted'),
            seq: eb.ref('excluded.seq'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute()
    }
  }

  async lastSeq(): Promise<number> {
    const row = await this.db
      .selectFrom('server_state')
      .select('seq')
      .where('id', '=', 1)
      .executeTakeFirstOrThrow()
    return row.seq
  }

  async advanceSeq(seq: number): Promise<void> {
    await this.db
      .updateTable('server_state')
      .set((eb) => ({ seq: eb.fn<number>(this.dialect.greatest, [eb.ref('seq'), eb.val(seq)]) }))
      .where('id', '=', 1)
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

  insertWrites(recordId: string, writes: readonly StoredWrite[]): Promise<void> {
    return this.insertOpRows(opWriteRowsFor(recordId, writes))
  }

  async insertWritesOf(writes: readonly (StoredWrite & { recordId: string })[]): Promise<void> {
    // Grouped before chunking: an op's writes must land in one row, whatever the chunk size.
    await this.insertOpRows(opWriteRowsOf(writes))
  }

  async insertOpRows(rows: readonly OpHistoryRow[]): Promise<void> {
    for (const chunk of chunksOf(rows, 500)) await this.insertOpRowChunk(chunk)
  }

  private async insertOpRowChunk(rows: readonly Insertable<OpWritesTable>[]): Promise<void> {
    if (this.dialect.name === 'postgres') {
      // One array per column instead of seven parameters per row: PostgreSQL binds and plans it far faster.
      const column = <T>(of: (row: (typeof rows)[number]) => T) => rows.map(of)
      await this.db
        .insertInto('op_writes')
        .columns(['record_id', 'stamp', 'writes', 'device_id', 'user_id', 'server_seq', 'received_at'])
        .expression(
          sql`select * from unnest(${column((r) => r.record_id)}::text[], ${column((r) => r.stamp)}::text[],
            ${column((r) => r.writes)}::text[], ${column((r) => r.device_id)}::text[],
            ${column((r) => r.user_id)}::text[], ${column((r) => r.server_seq)}::bigint[],
            ${column((r) => r.received_at)}::bigint[])`,
        )
        .onConflict((oc) => oc.columns(['record_id', 'stamp']).doNothing())
        .execute()
      return
    }
    await this.db
      .insertInto('op_writes')
      .values([...rows])
      .onConflict((oc) => oc.columns(['record_id', 'stamp']).doNothing())
      .execute()
  }

  async listWrites(recordId: string): Promise<StoredWrite[]> {
    const rows = await this.db
      .selectFrom('op_writes')
      .selectAll()
      .where('record_id', '=', recordId)
      .orderBy('id')
      .execute()
    return rows.flatMap((row) => storedWritesOf(row))
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
      const decided = await this.getConflictResolution(recordId, c.field, c.loserStamp)
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
          resolved_at: decided?.resolvedAt ?? null,
          resolved_by: decided?.resolvedBy ?? null,
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
    return rows.map(conflictOf)
  }

  async getWrite(recordId: string, field: string, stamp: Stamp): Promise<StoredWrite | null> {
    const row = await this.db
      .selectFrom('op_writes')
      .selectAll()
      .where('record_id', '=', recordId)
      .where('stamp', '=', stamp)
      .executeTakeFirst()
    return (row && storedWritesOf(row).find((write) => write.field === field)) ?? null
  }

  /** Open conflict rows joined to the records a filter covers (the scope columns are indexed). */
  private openConflictsQuery(filter: RecordFilter) {
    const ids = [...filter.areaIds]
    return this.db
      .selectFrom('conflicts as c')
      .innerJoin('records as r', 'r.id', 'c.record_id')
      .where('c.resolved_at', 'is', null)
      .where((eb) =>
        eb.or([
          eb('r.grid_id', 'in', ids),
          eb('r.village_id', 'in', ids),
          eb('r.town_id', 'in', ids),
          eb('r.county_id', 'in', ids),
        ]),
      )
      .where('r.kind', 'in', [...filter.kinds])
  }

  async listOpenConflicts(query: RecordFilter & { before?: number; limit: number }): Promise<OpenConflict[]> {
    if (query.areaIds.length === 0 || query.kinds.length === 0) return []
    let select = this.openConflictsQuery(query).selectAll('c')
    if (query.before !== undefined) select = select.where('c.id', '<', query.before)
    const rows = await select.orderBy('c.id', 'desc').limit(query.limit).execute()
    if (rows.length === 0) return []
    const recordIds = [...new Set(rows.map((r) => r.record_id))]
    const records = await this.db.selectFrom('records').selectAll().where('id', 'in', recordIds).execute()
    const byId = new Map(records.map((r) => [r.id, recordOf(r)]))
    return rows.map((row) => ({ conflict: conflictOf(row), record: byId.get(row.record_id)! }))
  }

  async countOpenConflicts(filter: RecordFilter): Promise<number> {
    if (filter.areaIds.length === 0 || filter.kinds.length === 0) return 0
    const row = await this.openConflictsQuery(filter)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    return row.n
  }

  async getConflictResolution(
    recordId: string,
    field: string,
    loserStamp: Stamp,
  ): Promise<ConflictResolutionRow | null> {
    const row = await this.db
      .selectFrom('conflict_resolutions')
      .selectAll()
      .where('record_id', '=', recordId)
      .where('field', '=', field)
      .where('loser_stamp', '=', loserStamp)
      .executeTakeFirst()
    return row ? resolutionOf(row) : null
  }

  async resolveConflict(resolution: ConflictResolutionRow): Promise<ConflictResolutionRow> {
    const { recordId, field, loserStamp } = resolution
    await this.db
      .insertInto('conflict_resolutions')
      .values({
        record_id: recordId,
        field,
        loser_stamp: loserStamp,
        decision: resolution.decision,
        resolved_by: resolution.resolvedBy,
        resolved_at: resolution.resolvedAt,
      })
      .onConflict((oc) => oc.columns(['record_id', 'field', 'loser_stamp']).doNothing())
      .execute()
    const kept = await this.getConflictResolution(recordId, field, loserStamp)
    if (!kept) throw new Error('conflict resolution missing after insert')
    await this.db
      .updateTable('conflicts')
      .set({ resolved_at: kept.resolvedAt, resolved_by: kept.resolvedBy })
      .where('record_id', '=', recordId)
      .where('field', '=', field)
      .where('loser_stamp', '=', loserStamp)
      .where('resolved_at', 'is', null)
      .execute()
    return kept
  }

  /**
   * The records changed after `since`, in seq order, that the filter's areas cover. One query per area and scope
   * column, each an index range scan on (column, seq) that stops after `limit` rows; the first `limit` of their
   * merge are the page. Why not one query with an OR of the scope columns: the database then gathers every row in
   * scope after `since` and sorts them all, so a page cost as much as all the records still to pull.
   * With several scans, each may bring `limit` rows of which the page keeps `limit` in all (a user with two grids
   * read twice the rows it was sent): so the scans first bring only their seqs, and the rows are read up to the
   * page's last seq. Run inside a read transaction, both reads see the same snapshot.
   */
  async listRecordsSince(since: number, limit: number, filter?: RecordFilter): Promise<StoredRecord[]> {
    if (filter && (filter.areaIds.length === 0 || filter.kinds.length === 0)) return []
    const queries = await this.recordsSinceQueries(since, limit, filter)
    if (queries.length === 1) return (await queries[0]!.execute()).map(recordOf)
    const scanned = await Promise.all(queries.map((query) => query.clearSelect().select('seq').execute()))
    // A record two areas cover comes from both scans with its one seq.
    const seqs = [...new Set(scanned.flat().map((row) => Number(row.seq)))].sort((a, b) => a - b)
    if (seqs.length === 0) return []
    const last = seqs[Math.min(limit, seqs.length) - 1]!
    const pages = await Promise.all(
      queries.map((query) => query.clearLimit().where('seq', '<=', last).execute()),
    )
    const seen = new Set<string>()
    return pages
      .flat()
      .sort((a, b) => Number(a.seq) - Number(b.seq))
      .filter((row) => !seen.has(row.id) && seen.add(row.id))
      .map(recordOf)
  }

  /** The queries behind listRecordsSince (public so a test can read the database's plan of them). */
  async recordsSinceQueries(since: number, limit: number, filter?: RecordFilter) {
    const after = this.db.selectFrom('records').selectAll().where('seq', '>', since)
    if (!filter) return [after.orderBy('seq').limit(limit)]
    const levels = new Map(
      (
        await this.db
          .selectFrom('areas')
          .select(['id', 'level'])
          .where('id', 'in', [...filter.areaIds])
          .execute()
      ).map((area) => [area.id, area.level]),
    )
    const kinds = [...filter.kinds]
    return filter.areaIds.flatMap((id) => {
      const level = levels.get(id)
      // The column that holds an area's id is the one of its level; an unknown area is looked for in all four.
      const columns = level ? [SCOPE_COLUMN[level]] : Object.values(SCOPE_COLUMN)
      return columns.map((column) =>
        after.where(column, '=', id).where('kind', 'in', kinds).orderBy('seq').limit(limit),
      )
    })
  }

  async getPhoto(sha256: string): Promise<PhotoRow | null> {
    const row = await this.db.selectFrom('photos').selectAll().where('sha256', '=', sha256).executeTakeFirst()
    return row ? photoOf(row) : null
  }

  async savePhoto(photo: PhotoRow): Promise<void> {
    const row = {
      sha256: photo.sha256,
      bytes: photo.bytes,
      mime: photo.mime,
      width: photo.width,
      height: photo.height,
      created_at: photo.createdAt,
      uploaded_by: photo.uploadedBy,
      complete: photo.complete ? 1 : 0,
    }
    await this.db
      .insertInto('photos')
      .values(row)
      .onConflict((oc) => oc.column('sha256').doUpdateSet(row))
      .execute()
  }

  async deletePhoto(sha256: string): Promise<void> {
    await this.db.deleteFrom('photos').where('sha256', '=', sha256).execute()
  }

  async photoRecordScopes(sha256: string): Promise<Scope[]> {
    // Matches the partial expression index records_photo_sha (004_field_capture, pg/001_initial).
    const rows = await this.db
      .selectFrom('records')
      .select(['grid_id', 'village_id', 'town_id', 'county_id'])
      .where('kind', '=', 'photo')
      .where('deleted', '=', 0)
      .where(this.dialect.photoSha, '=', sha256)
      .execute()
    return rows.map((r) => ({
      gridId: r.grid_id,
      villageId: r.village_id,
      townId: r.town_id,
      countyId: r.county_id,
    }))
  }

  async insertExit(exit: RecordExit): Promise<void> {
    await this.db
      .insertInto('record_exits')
      .values({
        seq: exit.seq,
        record_id: exit.recordId,
        kind: exit.kind,
        grid_id: exit.scope.gridId,
        village_id: exit.scope.villageId,
        town_id: exit.scope.townId,
        county_id: exit.scope.countyId,
      })
      .execute()
  }

  async listExitsSince(since: number, upTo: number | null, filter: RecordFilter): Promise<RecordExit[]> {
    const ids = [...filter.areaIds]
    if (ids.length === 0 || filter.kinds.length === 0) return []
    let query = this.db
      .selectFrom('record_exits as x')
      .innerJoin('records as r', 'r.id', 'x.record_id')
      .selectAll('x')
      .where('x.seq', '>', since)
      .where('x.kind', 'in', [...filter.kinds])
      .where((eb) =>
        eb.or([
          eb('x.grid_id', 'in', ids),
          eb('x.village_id', 'in', ids),
          eb('x.town_id', 'in', ids),
          eb('x.county_id', 'in', ids),
        ]),
      )
      .where((eb) =>
        eb.not(
          eb.or([
            eb('r.grid_id', 'in', ids),
            eb('r.village_id', 'in', ids),
            eb('r.town_id', 'in', ids),
            eb('r.county_id', 'in', ids),
          ]),
        ),
      )
    if (upTo !== null) query = query.where('x.seq', '<=', upTo)
    const rows = await query.orderBy('x.seq').execute()
    return rows.map((x) => ({
      seq: x.seq,
      recordId: x.record_id,
      kind: x.kind,
      scope: { gridId: x.grid_id, villageId: x.village_id, townId: x.town_id, countyId: x.county_id },
    }))
  }

  async loadClock(): Promise<Stamp | null> {
    const row = await this.db
      .selectFrom('server_state')
      .select('clock')
      .where('id', '=', 1)
      .executeTakeFirst()
    return row?.clock ?? null
  }

  /**
   * Never moves the stored clock backwards: with several server processes, one whose clock lags another's must not
   * overwrite it (stamps are fixed-width, so text order is time order; the PostgreSQL column collates as "C").
   */
  async saveClock(stamp: Stamp): Promise<void> {
    await this.db
      .updateTable('server_state')
      .set((eb) => ({
        clock: eb
          .case()
          .when(eb.or([eb('clock', 'is', null), eb('clock', '<', stamp)]))
          .then(stamp)
          .else(eb.ref('clock'))
          .end(),
      }))
      .where('id', '=', 1)
      .execute()
  }
}

function areaOf(r: Selectable<AreasTable>): Area {
  return {
    id: r.id,
    level: r.level,
    name: r.name,
    parentId: r.parent_id,
    geometry: r.geometry === null ? null : parse<GeoPolygon>(r.geometry),
    centroid:
      r.centroid_lat === null || r.centroid_lng === null
        ? null
        : { lat: r.centroid_lat, lng: r.centroid_lng },
  }
}

function deviceOf(r: {
  id: string
  user_id: string
  username: string
  display_name: string
  first_seen_at: number
  last_seen_at: number
  wipe_requested_at: number | null
  wiped_at: number | null
}): DeviceRow {
  return {
    id: r.id,
    userId: r.user_id,
    username: r.username,
    displayName: r.display_name,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    wipeRequestedAt: r.wipe_requested_at,
    wipedAt: r.wiped_at,
  }
}

/** `items` in runs of at most `size` (a multi-row insert stays under SQLite's and PostgreSQL's limits of bound values). */
function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = []
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size))
  return chunks
}

function photoOf(row: Selectable<PhotosTable>): PhotoRow {
  return {
    sha256: row.sha256,
    bytes: row.bytes,
    mime: row.mime,
    width: row.width,
    height: row.height,
    createdAt: row.created_at,
    uploadedBy: row.uploaded_by,
    complete: row.complete === 1,
  }
}

function conflictOf(r: Selectable<ConflictsTable>): ConflictRow {
  return {
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
  }
}

function resolutionOf(r: Selectable<ConflictResolutionsTable>): ConflictResolutionRow {
  return {
    recordId: r.record_id,
    field: r.field,
    loserStamp: r.loser_stamp,
    decision: r.decision,
    resolvedBy: r.resolved_by,
    resolvedAt: r.resolved_at,
  }
}

export function recordOf(row: Selectable<RecordsTable>): StoredRecord {
  return {
    id: row.id,
    kind: row.kind satisfies RecordKind,
    fields: parse<Record<string, unknown>>(row.fields),
    stamps: decodeStamps(row.stamps),
    deleted: row.deleted === 1,
    seq: row.seq,
    scope: { gridId: row.grid_id, villageId: row.village_id, townId: row.town_id, countyId: row.county_id },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

/** Which records column carries the id of an area of each level. */
const SCOPE_COLUMN = {
  grid: 'grid_id',
  village: 'village_id',
  town: 'town_id',
  county: 'county_id',
} as const

/** One history row per op: consecutive writes of one record with one stamp are one op's (see writesOfOp). */
export function opWriteRowsOf(writes: readonly (StoredWrite & { recordId: string })[]): OpHistoryRow[] {
  const rows: OpHistoryRow[] = []
  for (let start = 0; start < writes.length;) {
    const recordId = writes[start]!.recordId
    let end = start + 1
    while (end < writes.length && writes[end]!.recordId === recordId) end++
    opWriteRowsFor(recordId, writes.slice(start, end), rows)
    start = end
  }
  return rows
}

/**
 * The history rows of one record's writes, appended to `rows`: one per run of consecutive writes with one stamp (an
 * op's). Takes the writes as the sync service made them, without a copy carrying the record's id: a push batch keeps
 * only these rows (a string per op) until it writes them, not eight objects per household.
 */
export function opWriteRowsFor(
  recordId: string,
  writes: readonly StoredWrite[],
  rows: OpHistoryRow[] = [],
): OpHistoryRow[] {
  for (let start = 0; start < writes.length;) {
    const first = writes[start]!
    let end = start + 1
    while (end < writes.length && writes[end]!.stamp === first.stamp) end++
    rows.push({
      record_id: recordId,
      stamp: first.stamp,
      writes: encodeOpWrites(writes, start, end),
      device_id: first.deviceId,
      user_id: first.userId,
      server_seq: first.serverSeq,
      received_at: first.receivedAt,
    })
    start = end
  }
  return rows
}

/** The field writes of one op's history row. */
function storedWritesOf(row: Selectable<OpWritesTable>): StoredWrite[] {
  return decodeOpWrites(row.writes).map((write) => ({
    ...write,
    stamp: row.stamp,
    deviceId: row.device_id,
    userId: row.user_id,
    serverSeq: Number(row.server_seq),
    receivedAt: Number(row.received_at),
  }))
}
