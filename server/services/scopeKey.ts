import { createHash } from 'node:crypto'
import type { UserRole } from '#shared/schemas/api.ts'

/**
 * Names what a user may see: their role, their areas (in any order) and the area tree's version, hashed short.
 * A device that sees it change rebuilds its local copy from a full pull, which is how records leave a phone whose
 * user was reassigned or whose grid moved (see pullResponseSchema.scopeKey).
 */
export function scopeKeyOf(role: UserRole, areaIds: readonly string[], areasVersion: number): string {
  const canonical = JSON.stringify([role, [...new Set(areaIds)].sort(), areasVersion])
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16)
}
