import type { AdminDevice } from '#shared/schemas/admin.ts'

/** 正常 / 待清除 (asked, the device has not called back yet) / 已清除 (it wiped itself and its session is revoked). */
export type DeviceStatus = 'active' | 'wipePending' | 'wiped'

export function deviceStatus(device: Pick<AdminDevice, 'wipeRequestedAt' | 'wipedAt'>): DeviceStatus {
  if (device.wipedAt !== null) return 'wiped'
  if (device.wipeRequestedAt !== null) return 'wipePending'
  return 'active'
}
