import { randomUUID } from 'node:crypto'
import { AREA_LEVELS } from '#shared/domain/areaCodes.ts'
import type { AreaLevel } from '#shared/domain/areaCodes.ts'
import { canAdminister } from '#shared/domain/permissions.ts'
import type { UserRole } from '#shared/schemas/api.ts'
import { HttpError, badRequest, forbidden, notFound } from '../http/HttpError.ts'
import type {
  Area,
  AuditEntry,
  DeviceRow,
  NewAuditEntry,
  StoreOps,
  SyncStore,
  User,
  UserAccount,
} from '../store/SyncStore.ts'
import { AreaTree } from './AreaTree.ts'
import { checkGridPolygon, findOverlappingGrid } from './gridGeometry.ts'
import { DEFAULT_PASSWORD_COST, hashPassword } from './password.ts'
import type { PasswordCost } from './password.ts'

export const LEVEL_NAMES: Record<AreaLevel, string> = {
  county: '县/区',
  town: '乡镇/街道',
  village: '村/社区',
  grid: '网格',
}

export interface AreaView {
  id: string
  level: AreaLevel
  name: string
  parentId: string | null
  geometry: Area['geometry']
}

export interface NewAreaInput {
  id: string
  level: AreaLevel
  name: string
  parentId: string | null
  geometry?: unknown
}

export interface AreaChanges {
  name?: string | undefined
  parentId?: string | null | undefined
  geometry?: unknown
}

export interface NewUserInput {
  username: string
  displayName: string
  role: UserRole
  areaIds: string[]
  password: string
}

export interface UserUpdate {
  displayName?: string | undefined
  role?: UserRole | undefined
  areaIds?: string[] | undefined
  password?: string | undefined
  disabled?: boolean | undefined
}

export type DeviceView = Omit<DeviceRow, 'firstSeenAt'>

/** The admin who acts, and from which device (for the audit log). */
export interface Actor {
  user: User
  deviceId: string
}

export interface AdminService {
  listAreas(admin: User): Promise<AreaView[]>
  createArea(actor: Actor, input: NewAreaInput, now: number): Promise<AreaView>
  updateArea(
    actor: Actor,
    id: string,
    changes: AreaChanges,
    now: number,
  ): Promise<{ area: AreaView; movedRecords: number }>
  listUsers(admin: User): Promise<UserAccount[]>
  createUser(actor: Actor, input: NewUserInput, now: number): Promise<UserAccount>
  updateUser(actor: Actor, id: string, changes: UserUpdate, now: number): Promise<UserAccount>
  listDevices(admin: User): Promise<DeviceView[]>
  requestWipe(actor: Actor, deviceId: string, now: number): Promise<DeviceView>
  listAudit(
    admin: User,
    page: { before?: number; limit: number },
  ): Promise<{ entries: AuditEntry[]; next: number | null }>
  /** Not an admin action: the device itself confirms it wiped its data; its sessions end here. */
  confirmWiped(actor: Actor, now: number): Promise<void>
}

export interface AdminServiceOptions {
  store: SyncStore
  passwordCost?: PasswordCost
}

const areaView = ({ id, level, name, parentId, geometry }: Area): AreaView => ({
  id,
  level,
  name,
  parentId,
  geometry,
})
const deviceView = ({ firstSeenAt: _first, ...device }: DeviceRow): DeviceView => device
const label = (area: Area) => `${area.name}（${area.id}）`

function requireAdmin(user: User): void {
  if (!canAdminister(user.role)) throw forbidden('只有管理员可以使用管理功能')
}

/**
 * The admin screens' operations: the area tree, users and their assignments, devices, the audit log.
 *
 * Invariants:
 * - An admin acts only within their own areas: on areas at or under them, on users all of whose areas lie there,
 *   on devices of such users, on audit entries concerning those areas. Anything else is 403.
 * - Moving a grid to another village rewrites its records' ancestors, each with a new server seq, and bumps
 *   areas_version (every scopeKey changes, devices rebuild their copies), in the same transaction as the move. Other
 *   area edits (a new area, a name, a polygon) change no record's scope, so they leave the version alone: a full
 *   re-pull on every phone is reserved for what needs it.
 * - Every change is audited in the transaction that makes it.
 */
export function createAdminService({
  store,
  passwordCost = DEFAULT_PASSWORD_COST,
}: AdminServiceOptions): AdminService {
  const treeOf = async (tx: StoreOps) => new AreaTree(await tx.listAreas())

  /** The user's areas with their ancestors: what an audit entry about the user is filed under. */
  const pathsOf = (tree: AreaTree, areaIds: readonly string[]) => [
    ...new Set(areaIds.flatMap((id) => tree.pathOf(id))),
  ]

  const manages = (tree: AreaTree, admin: User, areaIds: readonly string[]) =>
    areaIds.length > 0 && areaIds.every((id) => tree.covers(admin.areaIds, id))

  function checkAssignable(tree: AreaTree, admin: User, areaIds: readonly string[]): void {
    if (areaIds.length === 0) throw badRequest('areaIds', '至少分配一个区域')
    for (const id of areaIds) {
      if (!tree.get(id)) throw badRequest('areaIds', `区域 ${id} 不存在`)
      if (!tree.covers(admin.areaIds, id)) throw forbidden(`区域 ${label(tree.get(id)!)} 不在你的管理范围内`)
    }
  }

  function checkGeometry(tree: AreaTree, level: AreaLevel, geometry: unknown, selfId: string | null) {
    if (level !== 'grid') {
      if (geometry === undefined || geometry === null) return null
      throw new HttpError(400, 'invalid_geometry', '只有网格有边界，其他区域不填边界', 'geometry')
    }
    if (geometry === undefined || geometry === null) {
      throw new HttpError(400, 'invalid_geometry', '网格需要边界（GeoJSON Polygon）', 'geometry')
    }
    const check = checkGridPolygon(geometry)
    if (!check.ok) throw new HttpError(400, 'invalid_geometry', check.message, 'geometry')
    const others = tree.areas.filter((a) => a.id !== selfId)
    const overlap = findOverlappingGrid(check.polygon, others)
    if (overlap) {
      throw new HttpError(
        400,
        'overlapping_grid',
        `边界与网格 ${label(overlap)} 重叠，网格之间不能重叠`,
        'geometry',
      )
    }
    return check
  }

  const audit = (tx: StoreOps, actor: Actor, entry: Omit<NewAuditEntry, 'userId' | 'deviceId'>) =>
    tx.insertAudit({ ...entry, userId: actor.user.id, deviceId: actor.deviceId })

  return {
    async listAreas(admin) {
      requireAdmin(admin)
      return (await treeOf(store)).subtree(admin.areaIds).map(areaView)
    },

    async createArea(actor, input, now) {
      requireAdmin(actor.user)
      return store.transaction(async (tx) => {
        const tree = await treeOf(tx)
        if (input.parentId === null) throw forbidden('不能新建县级区域')
        const parent = tree.get(input.parentId)
        if (!parent) throw badRequest('parentId', `上级区域 ${input.parentId} 不存在`)
        if (!tree.covers(actor.user.areaIds, parent.id)) {
          throw forbidden(`上级区域 ${label(parent)} 不在你的管理范围内`)
        }
        const level = AREA_LEVELS[AREA_LEVELS.indexOf(parent.level) + 1]
        if (!level) throw badRequest('parentId', `网格 ${label(parent)} 之下不能再建区域`)
        if (input.level !== level) {
          throw badRequest(
            'level',
            `${LEVEL_NAMES[parent.level]}之下应为${LEVEL_NAMES[level]}，而不是 ${input.level}`,
          )
        }
        if (!new RegExp(`^${parent.id}\\d{3}$`).test(input.id) || input.id.endsWith('000')) {
          throw badRequest('id', `区域编码应为上级编码 ${parent.id} 加 3 位数字（001–999）`)
        }
        const existing = tree.get(input.id)
        if (existing)
          throw new HttpError(409, 'area_exists', `编码 ${input.id} 已被 ${existing.name} 使用`, 'id')
        const geometry = checkGeometry(tree, level, input.geometry, null)
        const area: Area = {
          id: input.id,
          level,
          name: input.name,
          parentId: parent.id,
          geometry: geometry?.polygon ?? null,
          centroid: geometry?.centroid ?? null,
        }
        await tx.insertAreas([area])
        await audit(tx, actor, {
          at: now,
          action: 'area_created',
          recordKind: 'area',
          recordId: area.id,
          field: null,
          detail: { name: area.name, level, parentId: parent.id },
          areaIds: [area.id, ...tree.pathOf(parent.id)],
        })
        return areaView(area)
      })
    },

    async updateArea(actor, id, changes, now) {
      requireAdmin(actor.user)
      return store.transaction(async (tx) => {
        const tree = await treeOf(tx)
        const area = tree.get(id)
        if (!area) throw notFound(`区域 ${id} 不存在`)
        if (!tree.covers(actor.user.areaIds, id)) throw forbidden(`区域 ${label(area)} 不在你的管理范围内`)
        const oldPath = tree.pathOf(id)

        const moveTo =
          changes.parentId !== undefined && changes.parentId !== area.parentId ? changes.parentId : null
        if (changes.parentId === null && area.parentId !== null) {
          throw badRequest('parentId', `${LEVEL_NAMES[area.level]}必须有上级区域`)
        }
        if (moveTo !== null) {
          if (area.level !== 'grid') throw badRequest('parentId', '只能把网格移到另一个村/社区')
          const village = tree.get(moveTo)
          if (!village) throw badRequest('parentId', `区域 ${moveTo} 不存在`)
          if (village.level !== 'village')
            throw badRequest('parentId', `网格只能属于村/社区，${label(village)} 不是`)
          if (!tree.covers(actor.user.areaIds, moveTo))
            throw forbidden(`${label(village)} 不在你的管理范围内`)
        }
        const geometry =
          changes.geometry === undefined ? null : checkGeometry(tree, area.level, changes.geometry, id)
        const renamed = changes.name !== undefined && changes.name !== area.name

        await tx.updateArea(id, {
          ...(renamed ? { name: changes.name! } : {}),
          ...(moveTo !== null ? { parentId: moveTo } : {}),
          ...(geometry ? { geometry: geometry.polygon, centroid: geometry.centroid } : {}),
        })
        let movedRecords = 0
        if (moveTo !== null) {
          const scope = await tx.scopeOfGrid(id)
          if (!scope) throw new Error(`grid ${id} has no scope after its move`)
          movedRecords = await tx.moveGridRecords(id, scope)
          await audit(tx, actor, {
            at: now,
            action: 'grid_moved',
            recordKind: 'area',
            recordId: id,
            field: 'parentId',
            detail: { from: area.parentId, to: moveTo, movedRecords },
            areaIds: [...new Set([...oldPath, id, ...tree.pathOf(moveTo)])],
          })
        }
        const changed = [...(renamed ? ['name'] : []), ...(geometry ? ['geometry'] : [])]
        if (changed.length > 0) {
          await audit(tx, actor, {
            at: now,
            action: 'area_updated',
            recordKind: 'area',
            recordId: id,
            field: changed.join(','),
            detail: renamed ? { changed, from: area.name, to: changes.name } : { changed },
            areaIds: oldPath,
          })
        }
        if (moveTo !== null) await tx.bumpAreasVersion()
        const updated = await tx.getArea(id)
        return { area: areaView(updated!), movedRecords }
      })
    },

    async listUsers(admin) {
      requireAdmin(admin)
      const tree = await treeOf(store)
      return (await store.listUsers()).filter((u) => manages(tree, admin, u.areaIds))
    },

    async createUser(actor, input, now) {
      requireAdmin(actor.user)
      const passwordHash = await hashPassword(input.password, { cost: passwordCost })
      return store.transaction(async (tx) => {
        const tree = await treeOf(tx)
        checkAssignable(tree, actor.user, input.areaIds)
        if (await tx.findUserByUsername(input.username)) {
          throw new HttpError(409, 'username_taken', `用户名 ${input.username} 已被使用`, 'username')
        }
        const id = randomUUID()
        const areaIds = [...new Set(input.areaIds)].sort()
        await tx.insertUser({
          id,
          username: input.username,
          displayName: input.displayName,
          role: input.role,
          areaIds,
          passwordHash,
          createdAt: now,
        })
        await audit(tx, actor, {
          at: now,
          action: 'user_created',
          recordKind: 'user',
          recordId: id,
          field: null,
          detail: { username: input.username, role: input.role, areaIds },
          areaIds: pathsOf(tree, areaIds),
        })
        return (await tx.getUser(id))!
      })
    },

    async updateUser(actor, id, changes, now) {
      requireAdmin(actor.user)
      const passwordHash =
        changes.password === undefined
          ? undefined
          : await hashPassword(changes.password, { cost: passwordCost })
      return store.transaction(async (tx) => {
        const tree = await treeOf(tx)
        const target = await tx.getUser(id)
        if (!target) throw notFound('没有这个用户')
        if (!manages(tree, actor.user, target.areaIds))
          throw forbidden(`用户 ${target.username} 不在你的管理范围内`)
        if (changes.areaIds) checkAssignable(tree, actor.user, changes.areaIds)
        if (
          id === actor.user.id &&
          (changes.disabled === true || (changes.role && changes.role !== 'admin'))
        ) {
          throw badRequest(changes.disabled ? 'disabled' : 'role', '不能停用自己的账号或取消自己的管理员角色')
        }
        const areaIds = changes.areaIds ? [...new Set(changes.areaIds)].sort() : undefined
        await tx.updateUser(id, {
          ...(changes.displayName !== undefined ? { displayName: changes.displayName } : {}),
          ...(changes.role !== undefined ? { role: changes.role } : {}),
          ...(changes.disabled !== undefined ? { disabled: changes.disabled } : {}),
          ...(passwordHash !== undefined ? { passwordHash } : {}),
        })
        if (areaIds) await tx.setUserAreas(id, areaIds)
        // A disabled account or a reset password ends every session: the phone must log in again.
        if (changes.disabled === true || passwordHash !== undefined) {
          await tx.revokeSessions({ userId: id }, now, changes.disabled ? 'disabled' : 'password_reset')
        }
        const changed = Object.keys(changes).filter((k) => changes[k as keyof UserUpdate] !== undefined)
        await audit(tx, actor, {
          at: now,
          action: 'user_updated',
          recordKind: 'user',
          recordId: id,
          field: changed.join(',') || null,
          detail: {
            username: target.username,
            changed,
            ...(changes.role !== undefined ? { role: changes.role } : {}),
            ...(areaIds ? { areaIds } : {}),
            ...(changes.disabled !== undefined ? { disabled: changes.disabled } : {}),
          },
          areaIds: pathsOf(tree, [...target.areaIds, ...(areaIds ?? [])]),
        })
        return (await tx.getUser(id))!
      })
    },

    async listDevices(admin) {
      requireAdmin(admin)
      const tree = await treeOf(store)
      const users = new Map((await store.listUsers()).map((u) => [u.id, u]))
      return (await store.listDevices())
        .filter((d) => manages(tree, admin, users.get(d.userId)?.areaIds ?? []))
        .map(deviceView)
    },

    async requestWipe(actor, deviceId, now) {
      requireAdmin(actor.user)
      return store.transaction(async (tx) => {
        const tree = await treeOf(tx)
        const device = await tx.getDevice(deviceId)
        if (!device) throw notFound('没有这台设备')
        const owner = await tx.getUser(device.userId)
        if (!manages(tree, actor.user, owner?.areaIds ?? [])) {
          throw forbidden(`设备 ${deviceId} 的用户不在你的管理范围内`)
        }
        await tx.requestWipe(deviceId, actor.user.id, now)
        await audit(tx, actor, {
          at: now,
          action: 'device_wipe_requested',
          recordKind: 'device',
          recordId: deviceId,
          field: null,
          detail: { userId: device.userId, username: device.username },
          areaIds: pathsOf(tree, owner?.areaIds ?? []),
        })
        return deviceView((await tx.getDevice(deviceId))!)
      })
    },

    async listAudit(admin, { before, limit }) {
      requireAdmin(admin)
      const rows = await store.listAudit({
        areaIds: admin.areaIds,
        ...(before === undefined ? {} : { before }),
        limit: limit + 1,
      })
      const entries = rows.slice(0, limit)
      return { entries, next: rows.length > limit ? entries.at(-1)!.id : null }
    },

    async confirmWiped(actor, now) {
      await store.transaction(async (tx) => {
        const device = await tx.getDevice(actor.deviceId)
        if (device && device.wipeRequestedAt !== null && device.wipedAt === null) {
          const tree = await treeOf(tx)
          await tx.markWiped(actor.deviceId, now)
          await audit(tx, actor, {
            at: now,
            action: 'device_wiped',
            recordKind: 'device',
            recordId: actor.deviceId,
            field: null,
            detail: { userId: actor.user.id, username: actor.user.username },
            areaIds: pathsOf(tree, actor.user.areaIds),
          })
        }
        await tx.revokeSessions({ deviceId: actor.deviceId }, now, 'wiped')
      })
    },
  }
}
