/**
 * The once-a-day reminder (no push notifications): the day it was last shown is kept per user in localStorage, as a
 * China Standard Time date, so the toast comes at most once per calendar day, however often the home screen opens.
 */
import { CHINA_OFFSET_MS } from '#shared/domain/careVisits.ts'

export const REMINDER_STORAGE_PREFIX = 'gridpatrol.tasksReminded.'

/** YYYY-MM-DD in UTC+8. */
export function chinaDay(at: number): string {
  return new Date(at + CHINA_OFFSET_MS).toISOString().slice(0, 10)
}

/** Whether to remind `userId` now; records the day when it says yes. Storage blocked: remind, never throw. */
export function takeDailyReminder(userId: string, now: number, storage: Storage | undefined): boolean {
  const key = REMINDER_STORAGE_PREFIX + userId
  const today = chinaDay(now)
  try {
    if (storage?.getItem(key) === today) return false
    storage?.setItem(key, today)
  } catch {
    // Private mode or a full quota: a reminder too many is better than none.
  }
  return true
}
