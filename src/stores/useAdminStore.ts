import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type {
  AdminDevice,
  AdminUser,
  AuditEntry,
  CreateAreaRequest,
  CreateUserRequest,
  UpdateAreaRequest,
  UpdateUserRequest,
} from '#shared/schemas/admin.ts'
import type { Area } from '#shared/schemas/api.ts'
import { AuthError, RequestError, TransportError } from '../sync/ports.ts'
import { getServices } from './services.ts'
import { useAreasStore } from './useAreasStore.ts'
import { useSessionStore } from './useSessionStore.ts'

/**
 * An admin action that failed: the server's code and Chinese message, and the field it names (shown next to that
 * field), or `offline` / `server` / `unauthorized` when the server could not answer or the session is gone.
 */
export class AdminError extends Error {
  override name = 'AdminError'
  constructor(
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message)
  }
}

export function adminErrorOf(error: unknown): AdminError {
  if (error instanceof AdminError) return error
  if (error instanceof RequestError) {
    const message =
      error.message || (error.status === 403 ? '您没有权限进行此操作' : '请求无效，请检查后再试')
    return new AdminError(error.code, message, error.field)
  }
  if (error instanceof AuthError) return new AdminError('unauthorized', '登录已失效，请重新登录')
  if (error instanceof TransportError && error.status !== undefined)
    return new AdminError('server', '服务器暂时不可用，请稍后再试')
  if (error instanceof TransportError) return new AdminError('offline', '无法连接服务器，请检查网络后再试')
  return new AdminError('unknown', error instanceof Error ? error.message : String(error))
}

const AUDIT_PAGE = 50

/** The admin screens' data: online only, nothing of it is cached on the device. */
export const useAdminStore = defineStore('admin', () => {
  const { admin } = getServices()
  const areas = shallowRef<Area[]>([])
  const users = shallowRef<AdminUser[]>([])
  const devices = shallowRef<AdminDevice[]>([])
  const audit = shallowRef<AuditEntry[]>([])
  /** The `before` of the next audit page; null once the oldest entry is loaded. */
  const auditNext = ref<string | number | null>(null)
  const auditComplete = ref(false)
  const loading = ref(false)
  /** The last failure (also thrown by the action). */
  const error = shallowRef<AdminError | null>(null)

  /** Run an action: failures become AdminError (stored and thrown); a refused session asks for the password. */
  async function act<T>(action: () => Promise<T>): Promise<T> {
    loading.value = true
    try {
      const result = await action()
      error.value = null
      return result
    } catch (failure) {
      if (failure instanceof AuthError) useSessionStore().markNeedsReauth()
      const mapped = adminErrorOf(failure)
      error.value = mapped
      throw mapped
    } finally {
      loading.value = false
    }
  }

  const replace = <T extends { id: string }>(list: readonly T[], item: T): T[] =>
    list.some((x) => x.id === item.id) ? list.map((x) => (x.id === item.id ? item : x)) : [...list, item]

  /** The area tree changed: the cached areas (map, grid pickers) and the records in scope follow. */
  function areasChanged(): void {
    void useAreasStore().load()
  }

  const loadAreas = () =>
    act(async () => {
      areas.value = await admin.listAreas()
      return areas.value
    })

  const createArea = (area: CreateAreaRequest) =>
    act(async () => {
      const created = await admin.createArea(area)
      areas.value = replace(areas.value, created)
      areasChanged()
      return created
    })

  /** Resolves with how many records moved with the area. */
  const updateArea = (id: string, changes: UpdateAreaRequest) =>
    act(async () => {
      const { area, movedRecords } = await admin.updateArea(id, changes)
      areas.value = replace(areas.value, area)
      areasChanged()
      return { area, movedRecords }
    })

  const loadUsers = () =>
    act(async () => {
      users.value = await admin.listUsers()
      return users.value
    })

  const createUser = (user: CreateUserRequest) =>
    act(async () => {
      const created = await admin.createUser(user)
      users.value = replace(users.value, created)
      return created
    })

  const updateUser = (id: string, changes: UpdateUserRequest) =>
    act(async () => {
      const updated = await admin.updateUser(id, changes)
      users.value = replace(users.value, updated)
      return updated
    })

  const loadDevices = () =>
    act(async () => {
      devices.value = await admin.listDevices()
      return devices.value
    })

  const wipeDevice = (id: string) =>
    act(async () => {
      const device = await admin.wipeDevice(id)
      devices.value = replace(devices.value, device)
      return device
    })

  /** The newest audit entries (first page), replacing what was loaded. */
  const loadAudit = (limit = AUDIT_PAGE) =>
    act(async () => {
      const page = await admin.audit({ limit })
      audit.value = page.entries
      auditNext.value = page.next
      auditComplete.value = page.next === null
      return page.entries
    })

  /** The next (older) audit page, appended; nothing when the oldest entry is already loaded. */
  const loadMoreAudit = (limit = AUDIT_PAGE) =>
    act(async () => {
      if (auditComplete.value) return []
      const page = await admin.audit({ limit, before: auditNext.value })
      const seen = new Set(audit.value.map((entry) => entry.id))
      audit.value = [...audit.value, ...page.entries.filter((entry) => !seen.has(entry.id))]
      auditNext.value = page.next
      auditComplete.value = page.next === null
      return page.entries
    })

  return {
    areas,
    users,
    devices,
    audit,
    auditNext,
    auditComplete,
    loading,
    error,
    loadAreas,
    createArea,
    updateArea,
    loadUsers,
    createUser,
    updateUser,
    loadDevices,
    wipeDevice,
    loadAudit,
    loadMoreAudit,
  }
})
