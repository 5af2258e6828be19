/**
 * Faults at the server's API (real SQLite file, over HTTP with supertest): ops from three devices arriving in any
 * order, one op per request as a flaky network may deliver them, and every batch replayed afterwards in another
 * order. An op that arrives before the create it builds on is refused `unknown_record` (nothing stored, not
 * remembered) and the device sends it again later, as its refused list lets it. Whatever the order, the server ends
 * with the same records (fields and stamps), the same conflict rows and the same write history as when everything
 * arrived in order once; replays change nothing and are answered as before. FAULT_SERVER_RUNS orders (default 30).
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import request from 'supertest'
import { pushResponseSchema, type Op, type OpResult } from '#shared/sync/protocol.ts'
import type { ConflictRow } from '../../server/store/SyncStore.ts'
import { decodeStamps } from '../../server/store/storedText.ts'
import {
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

const RUNS = Number(process.env.FAULT_SERVER_RUNS ?? 30)
const A = 'device-a-0001'
const B = 'device-b-0002'
const C = 'device-c-0003'
const R1 = '01900000-0000-7000-8000-0000000000a1'
const R2 = '01900000-0000-7000-8000-0000000000a2'

/** Each device's ops, in its outbox order. */
function script(): { device: string; op: Op }[] {
  const created = stamp(-10_000, A)
  const fields = householdFields()
  const seen = Object.fromEntries(Object.keys(fields).map((field) => [field, created]))
  const r2 = stamp(-9_000, A, 1)
  const a1 = stamp(-5_000, A)
  return [
    { device: A, op: createOp(1, R1, created) },
    { device: A, op: createOp(2, R2, r2, householdFields({ address: '余村竹海路 9 号' })) },
    // A renames twice (the second built on the first); B renames concurrently and changes the member count.
    { device: A, op: editOp(3, R1, a1, { headName: '潘甲一' }, { headName: created }) },
    { device: A, op: editOp(4, R1, stamp(-3_000, A), { headName: '潘甲二' }, { headName: a1 }) },
    { device: B, op: editOp(1, R1, stamp(-4_000, B), { headName: '潘乙' }, { headName: created }) },
    { device: B, op: editOp(2, R1, stamp(-3_500, B), { memberCount: 5 }, { memberCount: created }) },
    // C deletes R2 without having seen B's later edit of it: a delete-edit conflict.
    { device: B, op: editOp(3, R2, stamp(-2_000, B), { notes: '乙补充' }, { notes: r2 }) },
    {
      device: C,
      op: deleteOp(1, R2, stamp(-1_000, C), Object.fromEntries(Object.keys(seen).map((f) => [f, r2]))),
    },
  ]
}

async function setUp(): Promise<{ server: TestServer; tokens: Map<string, string> }> {
  const server = await startTestServer()
  await addUser(server, 'alice')
  await addUser(server, 'bob')
  await addUser(server, 'carol')
  const tokens = new Map([
    [A, await login(server, 'alice', A)],
    [B, await login(server, 'bob', B)],
    [C, await login(server, 'carol', C)],
  ])
  return { server, tokens }
}

/** Send one op per request in `order`; ops refused as unknown_record are sent again afterwards, in outbox order. */
async function deliver(
  server: TestServer,
  tokens: Map<string, string>,
  order: { device: string; op: Op }[],
): Promise<Map<string, OpResult>> {
  const answers = new Map<string, OpResult>()
  let pending = order
  for (let pass = 0; pending.length > 0; pass++) {
    expect(pass).toBeLessThan(3)
    const again: typeof pending = []
    for (const item of pending) {
      const response = await push(server, tokens.get(item.device)!, item.device, [item.op])
      expect(response.status).toBe(200)
      const [result] = pushResponseSchema.parse(response.body).results
      if (result?.status === 'refused' && result.code === 'unknown_record') again.push(item)
      else answers.set(`${item.device}/${item.op.seq}`, result!)
    }
    pending = script().filter((item) =>
      again.some((retry) => retry.device === item.device && retry.op.seq === item.op.seq),
    )
  }
  return answers
}

/** A stored JSON column (text in SQLite, parsed already elsewhere). */
const json = (value: unknown): Record<string, unknown> =>
  (typeof value === 'string' ? JSON.parse(value) : value) as Record<string, unknown>

async function state(server: TestServer, token: string) {
  const { recordRows, opWrites, appliedOps, conflicts, records } = await snapshot(server)
  const rows: Omit<ConflictRow, 'id' | 'createdAt' | 'loserUserId'>[] = []
  for (const id of [R1, R2]) {
    const response = await request(server.app)
      .get('/api/conflicts')
      .query({ recordId: id })
      .set('Authorization', `Bearer ${token}`)
    expect(response.status).toBe(200)
    for (const row of (response.body as { conflicts: ConflictRow[] }).conflicts) {
      const { id: _id, createdAt: _createdAt, loserUserId: _user, ...rest } = row
      rows.push(rest)
    }
  }
  return {
    counts: { opWrites, appliedOps, conflicts, records },
    records: recordRows.map(({ id, fields, stamps }) => ({
      id,
      fields: json(fields),
      stamps: decodeStamps(stamps),
    })),
    conflicts: rows.sort((x, y) => (x.loserStamp < y.loserStamp ? -1 : 1)),
  }
}

describe('reordered and replayed ops at the server', () => {
  it(`ends in the same state whatever the arrival order, and replays change nothing (${RUNS} orders)`, async () => {
    const inOrder = await setUp()
    let reference: Awaited<ReturnType<typeof state>>
    let referenceAnswers: Map<string, OpResult>
    try {
      referenceAnswers = await deliver(inOrder.server, inOrder.tokens, script())
      reference = await state(inOrder.server, inOrder.tokens.get(A)!)
    } finally {
      await inOrder.server.close()
    }
    // What the ops promise, arriving in order: the later of A's names wins, B's concurrent name is a conflict,
    // the member count is B's, R2 is a tombstone with C's delete racing B's unseen note.
    expect([...referenceAnswers.values()].every((answer) => answer.status === 'applied')).toBe(true)
    const r1 = reference.records.find((record) => record.id === R1)!
    expect(r1.fields).toMatchObject({ headName: '潘甲二', memberCount: 5 })
    expect(reference.records.find((record) => record.id === R2)!.fields).toMatchObject({ _deleted: true })
    expect(reference.conflicts.map((row) => [row.recordId, row.field, row.type, row.loserValue])).toEqual([
      [R1, 'headName', 'edit', '潘乙'],
      [R2, 'notes', 'delete', '乙补充'],
    ])

    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(script(), { minLength: 8, maxLength: 8 }),
        fc.shuffledSubarray(script(), { minLength: 8, maxLength: 8 }),
        async (order, replayOrder) => {
          const { server, tokens } = await setUp()
          try {
            const answers = await deliver(server, tokens, order)
            expect(answers).toEqual(referenceAnswers)
            const after = await state(server, tokens.get(A)!)
            expect(after).toEqual(reference)

            // Every op again, in another order, one batch per device this time: answered as before, no change.
            for (const device of [A, B, C]) {
              const ops = replayOrder.filter((item) => item.device === device).map((item) => item.op)
              const response = await push(server, tokens.get(device)!, device, ops)
              expect(response.status).toBe(200)
              for (const result of pushResponseSchema.parse(response.body).results)
                expect(result).toEqual(answers.get(`${device}/${result.seq}`))
            }
            expect(await state(server, tokens.get(A)!)).toEqual(reference)
          } finally {
            await server.close()
          }
        },
      ),
      { numRuns: RUNS },
    )
  }, 120_000)
})
