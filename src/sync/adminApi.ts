import {
  adminAreaResponseSchema,
  adminAreaUpdateResponseSchema,
  adminAreasResponseSchema,
  adminDeviceResponseSchema,
  adminDevicesResponseSchema,
  adminUserResponseSchema,
  adminUsersResponseSchema,
  auditPageSchema,
} from '#shared/schemas/admin.ts'
import type {
  AdminAreaUpdate,
  AdminDevice,
  AdminUser,
  AuditPage,
  CreateAreaRequest,
  CreateUserRequest,
  UpdateAreaRequest,
  UpdateUserRequest,
} from '#shared/schemas/admin.ts'
import type { Area } from '#shared/schemas/api.ts'
import type { ApiClient } from './apiClient.ts'

/** The admin endpoints (role admin, within the admin's own areas), over the same authenticated client as sync. */
export interface AdminApi {
  listAreas(): Promise<Area[]>
  createArea(area: CreateAreaRequest): Promise<Area>
  updateArea(id: string, changes: UpdateAreaRequest): Promise<AdminAreaUpdate>
  listUsers(): Promise<AdminUser[]>
  createUser(user: CreateUserRequest): Promise<AdminUser>
  updateUser(id: string, changes: UpdateUserRequest): Promise<AdminUser>
  listDevices(): Promise<AdminDevice[]>
  wipeDevice(id: string): Promise<AdminDevice>
  /** Newest first; pass the previous page's `next` as `before`. */
  audit(page?: { limit?: number; before?: string | number | null }): Promise<AuditPage>
}

const at = (path: string, id: string) => `${path}/${encodeURIComponent(id)}`

export function createAdminApi(client: ApiClient): AdminApi {
  const { request } = client
  return {
    listAreas: async () => (await request('GET', '/api/admin/areas', adminAreasResponseSchema)).areas,
    createArea: async (body) =>
      (await request('POST', '/api/admin/areas', adminAreaResponseSchema, { body })).area,
    updateArea: (id, body) =>
      request('PATCH', at('/api/admin/areas', id), adminAreaUpdateResponseSchema, { body }),
    listUsers: async () => (await request('GET', '/api/admin/users', adminUsersResponseSchema)).users,
    createUser: async (body) =>
      (await request('POST', '/api/admin/users', adminUserResponseSchema, { body })).user,
    updateUser: async (id, body) =>
      (await request('PATCH', at('/api/admin/users', id), adminUserResponseSchema, { body })).user,
    listDevices: async () => (await request('GET', '/api/admin/devices', adminDevicesResponseSchema)).devices,
    wipeDevice: async (id) =>
      (await request('POST', `${at('/api/admin/devices', id)}/wipe`, adminDeviceResponseSchema, { body: {} }))
        .device,
    audit: ({ limit, before } = {}) => {
      const params = new URLSearchParams()
      if (limit !== undefined) params.set('limit', String(limit))
      if (before !== undefined && before !== null) params.set('before', String(before))
      const query = params.toString()
      return request('GET', `/api/admin/audit${query ? `?${query}` : ''}`, auditPageSchema)
    },
  }
}
