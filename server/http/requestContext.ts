import type { Response } from 'express'
import type { Session } from '../store/SyncStore.ts'
import { HttpError } from './HttpError.ts'

/** Typed access to what a request learned about its caller (for the handlers and the request log). */
interface Context {
  session?: Session
  userId?: string
  deviceId?: string
}

const context = (res: Response): Context => res.locals as Context

export function setSession(res: Response, session: Session): void {
  context(res).session = session
  context(res).userId = session.user.id
  context(res).deviceId = session.deviceId
}

export function sessionOf(res: Response): Session {
  const session = context(res).session
  if (!session) throw new HttpError(401, 'unauthorized', '请先登录')
  return session
}

export function setUserId(res: Response, userId: string): void {
  context(res).userId = userId
}

export function setDeviceId(res: Response, deviceId: string): void {
  context(res).deviceId = deviceId
}

/** 403 device_mismatch unless `deviceId` (from a push body or pull query) is the session's own device. */
export function requireSameDevice(res: Response, deviceId: string): void {
  const session = sessionOf(res)
  if (session.deviceId !== deviceId) {
    throw new HttpError(
      403,
      'device_mismatch',
      `设备不符：此登录属于另一台设备，请在本设备上重新登录`,
      'deviceId',
    )
  }
}

export function callerOf(res: Response): { user?: string; device?: string } {
  const { userId, deviceId } = context(res)
  return { ...(userId ? { user: userId } : {}), ...(deviceId ? { device: deviceId } : {}) }
}
