/**
 * A push batch is written in a few multi-row statements (server/store/batchedOps.ts). This test pushes the same
 * ops once as one batch and once one op per batch, on two servers, and asserts the same answers and exactly the same
 * database: records with their seqs, field writes, answers, conflicts, the server sequence.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Op } from '#shared/sync/protocol.ts'
import { pushResponseSchema } from '#shared/sync/protocol.ts'
import {
  GRID_A,
  GRID_B,
  addUser,
  createOp,
  deleteOp,
  editOp,
  householdFields,
  login,
  push,
  snapshot,
  stamp,
  startTestServer,
  type TestServer,
} from '../fixtures/serverHarness.ts'
import { ROWS_PER_STATEMENT } from '../../server/store/SqliteOps.ts'

const DEVICE = 'device-batch-1'
const OTHER = 'device-batch-2'
const id = (n: number) => `01900000-0000-7000-8000-${String(n).padStart(12, '0')}`

let servers: TestServer[] = []
beforeEach(async () => {
  servers = [await startTestServer(), await startTestServer()]
})
afterEach(async () => {
  for (const server of servers) await server.close()
})

/** Another device's records first (so that the batch meets existing records and makes a conflict). */
async function seedOther(server: TestServer): Promise<void> {
  await addUser(server, 'other')
  const token = await login(server, 'other', OTHER)
  await push(server, token, OTHER, [
    createOp(1, id(90), stamp(-9000, OTHER), householdFields({ headName: '旧名' })),
  ])
  await push(server, token, OTHER, [
    editOp(2, id(90), stamp(-1000, OTHER), { headName: '他改的名' }, { headName: stamp(-9000, OTHER) }),
  ])
}

function theOps(): Op[] {
  const c1 = stamp(-8000, DEVICE)
  const c2 = stamp(-7000, DEVICE)
  return [
    createOp(1, id(1), c1, householdFields({ address: '横山村1号' })),
    // The create sent again at once (a retry inside the batch), then the record edited in the same batch.
    createOp(1, id(1), c1, householdFields({ address: '横山村1号' })),
    editOp(2, id(1), stamp(-6000, DEVICE), { headName: '王二' }, { headName: c1 }),
    createOp(3, id(2), c2, householdFields({ gridId: GRID_B, address: '横山村2号' })),
    // An edit that did not see the other device's edit: a conflict on the existing record.
    editOp(4, id(90), stamp(-5000, DEVICE), { headName: '我改的名' }, { headName: stamp(-9000, OTHER) }),
    // Moved to another grid, then deleted.
    editOp(5, id(2), stamp(-4000, DEVICE), { gridId: GRID_A }, { gridId: c2 }),
    deleteOp(6, id(2), stamp(-3000, DEVICE), { gridId: stamp(-4000, DEVICE), address: c2 }),
    // Refused: an edit of a record the server does not know.
    editOp(7, id(3), stamp(-2000, DEVICE), { headName: '无' }, { headName: null }),
  ]
}

describe('a push batch written in bulk', () => {
  it('answers and stores exactly what the same ops pushed one by one do', async () => {
    const answers: unknown[][] = []
    for (const [index, server] of servers.entries()) {
      await seedOther(server)
      await addUser(server, 'me')
      const token = await login(server, 'me', DEVICE)
      const batches = index === 0 ? [theOps()] : theOps().map((op) => [op])
      const results: unknown[] = []
      for (const batch of batches) {
        const res = await push(server, token, DEVICE, batch)
        expect(res.status).toBe(200)
        results.push(...pushResponseSchema.parse(res.body).results)
      }
      answers.push(results)
    }
    expect(answers[0]).toEqual(answers[1])
    expect(answers[0]!.map((r) => (r as { status: string }).status)).toEqual([
      'applied',
      'applied',
      'applied',
      'applied',
      'applied',
      'applied',
      'applied',
      'refused',
    ])
    const [batched, oneByOne] = await Promise.all(servers.map((server) => snapshot(server)))
    expect(batched).toEqual(oneByOne)
    expect(batched!.conflicts).toBeGreaterThan(0)
  })

  it('writes a full batch in multi-row statements (and its remainder row by row) exactly as rows one at a time', async () => {
    // 2 × ROWS_PER_STATEMENT + 17 records, 2 × ROWS_PER_STATEMENT + 17 + 5 history rows and answers.
    const count = 2 * ROWS_PER_STATEMENT + 17
    const ops: Op[] = Array.from({ length: count }, (_, i) =>
      createOp(
        i + 1,
        id(1000 + i),
        stamp(-9000 + i, DEVICE),
        householdFields({ gridId: i % 2 ? GRID_A : GRID_B, address: `横山村${i}号` }),
      ),
    )
    for (let i = 0; i < 5; i++) {
      ops.push(
        editOp(
          count + i + 1,
          id(1000 + i * 7),
          stamp(-100 + i, DEVICE),
          { headName: `户主${i}` },
          {
            headName: stamp(-9000 + i * 7, DEVICE),
          },
        ),
      )
    }
    const tables = async (server: TestServer) => {
      const db = server.store.kysely
      return {
        records: await db.selectFrom('records').selectAll().orderBy('seq').execute(),
        // Every column but the user's id (random, one per server).
        opWrites: await db
          .selectFrom('op_writes')
          .select(['id', 'record_id', 'stamp', 'writes', 'device_id', 'server_seq', 'received_at'])
          .orderBy('id')
          .execute(),
        answers: await db.selectFrom('applied_ops').selectAll().orderBy('op_seq').execute(),
      }
    }
    const stored = []
    for (const [index, server] of servers.entries()) {
      await addUser(server, 'me')
      const token = await login(server, 'me', DEVICE)
      for (const batch of index === 0 ? [ops] : ops.map((op) => [op])) {
        const res = await push(server, token, DEVICE, batch)
        expect(res.status).toBe(200)
        expect(pushResponseSchema.parse(res.body).results.every((r) => r.status === 'applied')).toBe(true)
      }
      stored.push(await tables(server))
    }
    const [batched, oneByOne] = stored
    expect(batched!.records).toHaveLength(count)
    expect(batched!.opWrites).toHaveLength(count + 5)
    expect(batched!.answers).toHaveLength(count + 5)
    expect(batched).toEqual(oneByOne)
  })
})
