import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { pullResponseSchema } from '#shared/sync/protocol.ts'
import type { PullResponse } from '#shared/sync/protocol.ts'
import {
  addUser,
  createOp,
  editOp,
  login,
  pull,
  push,
  startTestServer,
  stamp,
} from '../fixtures/serverHarness.ts'
import type { TestServer } from '../fixtures/serverHarness.ts'
import { LAST_SEEN_RESOLUTION_MS } from '../../server/services/syncService.ts'

const A = 'device-a-0001'
const ids = [1, 2, 3, 4, 5].map((n) => `01900000-0000-7000-8000-00000000000${n}`)

let server: TestServer
let token: string

beforeEach(async () => {
  server = await startTestServer()
  await addUser(server, 'alice')
  token = await login(server, 'alice', A)
  const res = await push(
    server,
    token,
    A,
    ids.map((id, i) => createOp(i + 1, id, stamp(-10_000 + i, A))),
  )
  expect(res.status).toBe(200)
})
afterEach(() => server.close())

async function page(since: number, limit: number): Promise<PullResponse> {
  const res = await pull(server, token, A, since, limit)
  expect(res.status).toBe(200)
  return pullResponseSchema.parse(res.body)
}

describe('pull', () => {
  it('pages by server seq with cursor and more', async () => {
    const first = await page(0, 2)
    expect(first.records.map((r) => r.id)).toEqual(ids.slice(0, 2))
    expect(first).toMatchObject({ cursor: 2, more: true })
    const second = await page(first.cursor, 2)
    expect(second.records.map((r) => r.id)).toEqual(ids.slice(2, 4))
    expect(second).toMatchObject({ cursor: 4, more: true })
    const third = await page(second.cursor, 2)
    expect(third.records.map((r) => r.id)).toEqual(ids.slice(4))
    expect(third).toMatchObject({ cursor: 5, more: false })
    const empty = await page(third.cursor, 2)
    expect(empty).toMatchObject({ records: [], cursor: 5, more: false })
    // A page exactly as long as what is left says there is no more.
    expect(await page(3, 2)).toMatchObject({ cursor: 5, more: false })
  })

  it('moves a record edited again to a later page', async () => {
    const before = await page(0, 10)
    const firstStamp = before.records[0]!.stamps.headName!
    const res = await push(server, token, A, [
      editOp(6, ids[0]!, stamp(-1000, A), { headName: '潘再改' }, { headName: firstStamp }),
    ])
    expect(res.status).toBe(200)

    const after = await page(before.cursor, 10)
    expect(after.records.map((r) => [r.id, r.seq, r.fields.headName])).toEqual([[ids[0], 6, '潘再改']])
    expect(after).toMatchObject({ cursor: 6, more: false })
    const all = await page(0, 10)
    expect(all.records.map((r) => r.id)).toEqual([...ids.slice(1), ids[0]])
    expect(all.records.map((r) => r.seq)).toEqual([2, 3, 4, 5, 6])
  })

  it('carries the server clock and records the device as seen, at most once a minute (a pull writes nothing else)', async () => {
    const seenAt = async () =>
      (await server.store.kysely.selectFrom('devices').selectAll().executeTakeFirstOrThrow()).last_seen_at
    server.clock.now += LAST_SEEN_RESOLUTION_MS
    const res = await page(0, 1)
    expect(res.clock.startsWith(String(server.clock.now))).toBe(true)
    const seen = server.clock.now
    expect(await seenAt()).toBe(seen)
    server.clock.now += LAST_SEEN_RESOLUTION_MS - 1
    await page(0, 1)
    expect(await seenAt()).toBe(seen)
    server.clock.now += 1
    await page(0, 1)
    expect(await seenAt()).toBe(server.clock.now)
  })

  it('does not re-send a record when an op changed nothing', async () => {
    const before = await page(0, 10)
    const s = before.records[0]!.stamps.headName!
    // A replay of the create's write under a new op seq: same stamp, nothing changes.
    const res = await push(server, token, A, [
      editOp(7, ids[0]!, s, { headName: before.records[0]!.fields.headName }, {}),
    ])
    expect(res.body).toMatchObject({ results: [{ seq: 7, status: 'applied' }] })
    expect(await page(before.cursor, 10)).toMatchObject({ records: [], cursor: before.cursor })
  })
})
