/**
 * Who may do what, and where. One table, read by the server (which enforces it per op and per endpoint) and by the
 * app (which only hides what would be refused anyway).
 * Scope: a user is assigned areas (a grid, a village, a town or the county); a record is in scope when its grid or
 * one of its ancestors is among them.
 */
import type { UserRole } from '../schemas/api.ts'
import { RECORD_KINDS, type RecordKind } from '../schemas/records.ts'
import type { Scope } from '../sync/protocol.ts'

export type RecordAction = 'read' | 'create' | 'update' | 'delete'

const ALL = RECORD_KINDS
const RECORD_RIGHTS: Record<UserRole, Record<RecordAction, readonly RecordKind[]>> = {
  // 网格员: records everything in their grid; removes what they entered by mistake (but never an incident: 作废 is
  // a leader's step of the closed loop, and a track is a record of where they walked).
  worker: { read: ALL, create: ALL, update: ALL, delete: ['household', 'place', 'person', 'visit', 'photo'] },
  // 网格长/村干部: everything in their village or town.
  leader: { read: ALL, create: ALL, update: ALL, delete: ALL },
  // 责任单位: sees and reports on incidents only; never households or places.
  handler: { read: ['incident'], create: [], update: ['incident'], delete: [] },
  admin: { read: ALL, create: ALL, update: ALL, delete: ALL },
}

export function canOnRecords(role: UserRole, action: RecordAction, kind: RecordKind): boolean {
  return RECORD_RIGHTS[role][action].includes(kind)
}

export function readableKinds(role: UserRole): readonly RecordKind[] {
  return RECORD_RIGHTS[role].read
}

/** Whether a user assigned `areaIds` covers a record (or grid) with this scope. */
export function coversScope(areaIds: readonly string[], scope: Scope): boolean {
  return (
    areaIds.includes(scope.gridId) ||
    areaIds.includes(scope.villageId) ||
    areaIds.includes(scope.townId) ||
    areaIds.includes(scope.countyId)
  )
}

/** Admin screens (areas, users, devices, audit): admins only, within their own areas. */
export const canAdminister = (role: UserRole): boolean => role === 'admin'

/** Unmasking a sensitive value is an explicit, audited action; handlers never need it. */
export const canUnmask = (role: UserRole): boolean => role !== 'handler'
