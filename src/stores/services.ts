/**
 * The one place where the device's services are wired: which database, which transport, which clock and which
 * randomness. Stores take them from here, so tests swap in a fake-indexeddb database and a fake transport with
 * `setServices` before the stores are first used.
 */
import { v7 } from 'uuid'
import { GridPatrolDb } from '../db/GridPatrolDb.ts'
import { createHttpTransport } from '../sync/httpTransport.ts'
import type { HttpTransport } from '../sync/httpTransport.ts'

export interface SchedulerTuning {
  intervalMs: number
  nudgeDelayMs: number
  backoffBaseMs: number
  backoffMaxMs: number
}

export interface Services {
  db: GridPatrolDb
  transport: HttpTransport
  now: () => number
  /** Uniform in [0, 1). */
  random: () => number
  /** Record ids (UUIDv7). */
  newId: () => string
  isOnline: () => boolean
  scheduler: SchedulerTuning
  /** How many records of each kind the live lists hold (newest first); counts are always complete. */
  listLimit: number
}

function cryptoRandom(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]! / 2 ** 32
}

function defaults(): Services {
  const db = new GridPatrolDb()
  return {
    db,
    transport: createHttpTransport({
      getToken: async () => (await getServices().db.getMeta('session'))?.token ?? null,
    }),
    now: () => Date.now(),
    random: cryptoRandom,
    newId: () => v7(),
    isOnline: () => (typeof navigator === 'undefined' ? true : navigator.onLine),
    scheduler: { intervalMs: 60_000, nudgeDelayMs: 3_000, backoffBaseMs: 5_000, backoffMaxMs: 300_000 },
    listLimit: 2_000,
  }
}

let current: Services | null = null

export function getServices(): Services {
  current ??= defaults()
  return current
}

/** Replace some services (tests). Call before the stores are first used, or with a fresh Pinia after. */
export function setServices(overrides: Partial<Services>): Services {
  current = { ...getServices(), ...overrides }
  return current
}

export function resetServices(): void {
  current = null
}
