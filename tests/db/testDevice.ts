import { v7 } from 'uuid'
import { GridPatrolDb } from '../../src/db/GridPatrolDb.ts'
import { createDexieLocalStore } from '../../src/db/dexieLocalStore.ts'
import { createRecordRepository } from '../../src/db/recordRepository.ts'
import { SyncEngine } from '../../src/sync/SyncEngine.ts'
import type { Transport } from '../../src/sync/ports.ts'

export const T0 = 1_700_000_000_000
export const GRID = '330523101001001'

export const household = (overrides: Record<string, unknown> = {}) => ({
  gridId: GRID,
  address: '递铺街道横山村12号',
  housing: 'owned',
  headName: '王建国',
  headPhone: '13812345678',
  ...overrides,
})

let dbCount = 0
export const freshDbName = () => `gridpatrol-test-${process.pid}-${++dbCount}-${v7()}`

/** A device: its database, repository, local store and engine, with a manual wall clock. */
export function testDevice(
  transport: Transport,
  options: { name?: string; pushBatchSize?: number; pullLimit?: number } = {},
) {
  const name = options.name ?? freshDbName()
  let wall = T0
  const now = () => wall
  const deps = { now, newId: () => v7() }
  const db = new GridPatrolDb(name)
  const repo = createRecordRepository(db, deps)
  const store = createDexieLocalStore(db, deps)
  const engine = new SyncEngine({
    store,
    transport,
    now,
    ...(options.pushBatchSize === undefined ? {} : { pushBatchSize: options.pushBatchSize }),
    ...(options.pullLimit === undefined ? {} : { pullLimit: options.pullLimit }),
  })
  return {
    name,
    db,
    repo,
    store,
    engine,
    now,
    advance(ms: number) {
      wall += ms
    },
  }
}
