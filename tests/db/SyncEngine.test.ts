import { afterEach, describe, expect, it } from 'vitest'
import type { GridPatrolDb } from '../../src/db/GridPatrolDb.ts'
import { AuthError, TransportError } from '../../src/sync/ports.ts'
import type { SyncProgress } from '../../src/sync/ports.ts'
import { FakeServer } from './fakeServer.ts'
import { T0, household, testDevice } from './testDevice.ts'

const opened: GridPatrolDb[] = []
function device(server: FakeServer, options: Parameters<typeof testDevice>[1] = {}) {
  const d = testDevice(server, options)
  opened.push(d.db)
  return d
}
afterEach(async () => {
  for (const db of opened.splice(0)) if (db.isOpen()) await db.delete()
})

const localState = async (db: GridPatrolDb, id: string) => {
  const record = (await db.records.get(id))!
  return { fields: record.fields, stamps: record.stamps }
}

describe('SyncEngine against a fake server', () => {
  it('pushes the outbox; acknowledged ops leave it and the server holds the same records', async () => {
    const server = new FakeServer()
    const { db, repo, engine } = device(server)
    const a = await repo.create('household', household())
    const b = await repo.create('household', household({ headName: '李梅' }))
    await repo.update('household', a, { memberCount: 3 })

    const summary = await engine.sync()
    expect(summary).toMatchObject({ pushed: 3, refused: 0 })
    expect(await db.outbox.count()).toBe(0)
    expect(server.state(a)).toEqual(await localState(db, a))
    expect(server.state(b)).toEqual(await localState(db, b))
    expect((await db.records.get(a))!.pending).toBe(0)
    expect(await db.getMeta('lastSyncAt')).toBe(T0)
  })

  it('advances the device clock from the server clock', async () => {
    const server = new FakeServer()
    server.now = T0 + 3_600_000 // the server is an hour ahead of this phone
    const { db, repo, engine } = device(server)
    await repo.create('household', household())
    await engine.sync()
    const id = await repo.create('household', household())
    const stamp = (await db.records.get(id))!.stamps['address']!
    expect(Number(stamp.slice(0, 13))).toBeGreaterThanOrEqual(T0 + 3_600_000)
  })

  it('keeps refused ops with their reason instead of dropping them, and does not resend them', async () => {
    const server = new FakeServer()
    server.refuse = (op) =>
      op.type === 'put' && op.fields['headName'] === '张三'
        ? { code: 'invalid_field', reason: '户主姓名不可用', field: 'headName' }
        : null
    const { db, repo, engine } = device(server)
    const good = await repo.create('household', household())
    const bad = await repo.create('household', household({ headName: '张三' }))

    expect(await engine.sync()).toMatchObject({ pushed: 1, refused: 1 })
    expect(await db.outbox.count()).toBe(0)
    const [refused] = await db.refused.toArray()
    expect(refused).toMatchObject({
      id: bad,
      code: 'invalid_field',
      reason: '户主姓名不可用',
      field: 'headName',
    })
    expect(refused!.refusedAt).toBe(T0)
    expect(server.state(good)).toBeDefined()
    expect(server.state(bad)).toBeUndefined()
    expect((await db.records.get(bad))!.fields['headName']).toBe('张三') // the user still sees what they entered

    await engine.sync()
    expect(server.pushes).toHaveLength(1)
    expect(await db.refused.count()).toBe(1)
  })

  it('a retried batch after a lost response applies nothing twice and empties the outbox', async () => {
    const server = new FakeServer()
    const { db, repo, engine } = device(server)
    const id = await repo.create('household', household())
    await repo.update('household', id, { memberCount: 2 })
    server.failNext = 'after'

    await expect(engine.sync()).rejects.toBeInstanceOf(TransportError)
    expect(await db.outbox.count()).toBe(2) // not acknowledged: kept
    const seqAfterFirst = server.changeSeq
    const serverState = structuredClone(server.state(id))

    await engine.sync()
    expect(server.pushes).toHaveLength(2)
    expect(server.pushes[1]!.ops.map((op) => op.seq)).toEqual(server.pushes[0]!.ops.map((op) => op.seq))
    expect(server.changeSeq).toBe(seqAfterFirst)
    expect(server.state(id)).toEqual(serverState)
    expect(server.records.size).toBe(1)
    expect(await db.outbox.count()).toBe(0)
    expect(await db.records.count()).toBe(1)
  })

  it('pushes in bounded batches in outbox order and reports progress', async () => {
    const server = new FakeServer()
    const { repo, engine } = device(server, { pushBatchSize: 2, pullLimit: 2 })
    for (let i = 0; i < 5; i++) await repo.create('household', household({ houseNumber: `${i}号` }))
    const progress: SyncProgress[] = []
    await engine.sync((p) => progress.push(p))
    expect(server.pushes.map((push) => push.ops.map((op) => op.seq))).toEqual([[1, 2], [3, 4], [5]])
    expect(progress.filter((p) => p.phase === 'push')).toEqual([
      { phase: 'push', done: 0, total: 5 },
      { phase: 'push', done: 2, total: 5 },
      { phase: 'push', done: 4, total: 5 },
      { phase: 'push', done: 5, total: 5 },
    ])
    expect(progress.filter((p) => p.phase === 'pull').map((p) => p.done)).toEqual([0, 2, 4, 5])
  })

  it('sends the next push batch while it writes the answers to one, and writes them in order', async () => {
    const server = new FakeServer()
    const { db, repo, engine } = device(server, { pushBatchSize: 2 })
    for (let i = 0; i < 5; i++) await repo.create('household', household({ houseNumber: `${i}号` }))
    const sentWhenAcknowledged: number[] = []
    db.outbox.hook('deleting', () => {
      sentWhenAcknowledged.push(server.pushes.length)
    })
    await engine.sync()
    // Batch n's ops leave the outbox after batch n+1 went out; the last batch sends nothing more.
    expect(sentWhenAcknowledged).toEqual([2, 2, 3, 3, 3])
    expect(server.pushes.map((push) => push.ops.map((op) => op.seq))).toEqual([[1, 2], [3, 4], [5]])
    expect(await db.outbox.count()).toBe(0)
  })

  it('pulls pages from a cursor that persists across restarts', async () => {
    const server = new FakeServer()
    const ids = ['0190a000-0000-7000-8000-000000000001', '0190a000-0000-7000-8000-000000000002']
    for (const [i, id] of ids.entries())
      server.writeFromElsewhere('household', id, household(), T0 - 1000 + i)
    const first = device(server, { pullLimit: 1 })
    await first.engine.sync()
    expect(server.pulls.map((q) => q.since)).toEqual([0, 1])
    expect(await first.db.getMeta('pullCursor')).toBe(2)
    expect((await first.db.records.get(ids[1]!))!).toMatchObject({ serverSeq: 2, kind: 'household' })
    first.db.close()

    server.writeFromElsewhere('household', ids[0]!, { memberCount: 6 }, T0)
    const again = device(server, { name: first.name, pullLimit: 1 })
    await again.engine.sync()
    expect(server.pulls.slice(2).map((q) => q.since)).toEqual([2])
    expect((await again.db.records.get(ids[0]!))!.fields['memberCount']).toBe(6)
  })

  it('asks for the next page while it writes one, and still applies them in order', async () => {
    const server = new FakeServer()
    const ids = [1, 2, 3].map((n) => `0190a000-0000-7000-8000-00000000000${n}`)
    for (const [i, id] of ids.entries())
      server.writeFromElsewhere('household', id, household(), T0 - 1000 + i)
    const { db, engine } = device(server, { pullLimit: 1 })
    const askedWhenWritten: number[] = []
    db.records.hook('creating', () => {
      askedWhenWritten.push(server.pulls.length)
    })
    await engine.sync()
    // Page n (one record) is written after the request for page n+1 went out; the last page asks for nothing more.
    expect(askedWhenWritten).toEqual([2, 3, 3])
    expect(server.pulls.map((q) => q.since)).toEqual([0, 1, 2])
    expect(await db.getMeta('pullCursor')).toBe(3)
    expect((await db.records.toArray()).map((r) => r.id).sort()).toEqual(ids)
  })

  it('applies a page and its cursor together: a failed page leaves the cursor before it', async () => {
    const server = new FakeServer()
    const ids = [1, 2, 3].map((n) => `0190a000-0000-7000-8000-00000000000${n}`)
    for (const id of ids) server.writeFromElsewhere('household', id, household(), T0 - 1000)
    const { db, engine } = device(server, { pullLimit: 2 })
    db.records.hook('creating', (key) => {
      if (key === ids[2]) throw new Error('quota exceeded')
    })
    await expect(engine.sync()).rejects.toThrow('quota exceeded')
    expect(await db.getMeta('pullCursor')).toBe(2)
    expect((await db.records.toArray()).map((r) => r.id).sort()).toEqual(ids.slice(0, 2))
  })

  it('does not overwrite fields with pending local ops, and converges once they are acknowledged', async () => {
    const server = new FakeServer()
    const { db, repo, engine, store, advance } = device(server)
    const id = await repo.create('household', household())
    await engine.sync()

    advance(1000)
    await repo.update('household', id, { headName: '本机改名', notes: '本机备注' })
    server.writeFromElsewhere('household', id, { headName: '别处改名', address: '别处地址' }, T0 + 5000)
    await store.applyPullPage(
      await server.pull({ deviceId: 'x'.repeat(8), since: 1, limit: 10, protocol: 1 }),
    )
    const during = (await db.records.get(id))!
    expect(during.fields['headName']).toBe('本机改名') // pending: kept
    expect(during.fields['address']).toBe('别处地址') // not pending: merged
    expect(during.held?.fields['headName']).toBe('别处改名')

    await engine.sync()
    // The other device's later stamp wins on the server; the device follows although the record did not change there.
    expect(server.state(id)!.fields['headName']).toBe('别处改名')
    expect(await localState(db, id)).toEqual(server.state(id))
    expect((await db.records.get(id))!.held).toBeUndefined()
  })

  it('two devices editing one record converge to the server state', async () => {
    const server = new FakeServer()
    const one = device(server)
    const two = device(server)
    const id = await one.repo.create('household', household())
    await one.engine.sync()
    await two.engine.sync()
    one.advance(10)
    two.advance(20)
    await one.repo.update('household', id, { memberCount: 3, notes: '一号机' })
    await two.repo.update('household', id, { memberCount: 5, houseNumber: '8号' })
    await two.repo.remove('household', id).catch(() => undefined)
    await one.engine.sync()
    await two.engine.sync()
    await one.engine.sync()
    const final = server.state(id)!
    expect(final.fields).toMatchObject({
      memberCount: 5,
      notes: '一号机',
      houseNumber: '8号',
      _deleted: true,
    })
    expect(await localState(one.db, id)).toEqual(final)
    expect(await localState(two.db, id)).toEqual(final)
    expect((await one.db.records.get(id))!.deleted).toBe(1)
  })

  it('a 401 throws AuthError and keeps every queued op', async () => {
    const server = new FakeServer()
    const { db, repo, engine } = device(server)
    await repo.create('household', household())
    server.unauthorized = true
    await expect(engine.sync()).rejects.toBeInstanceOf(AuthError)
    expect(await db.outbox.count()).toBe(1)
    server.unauthorized = false
    await engine.sync()
    expect(await db.outbox.count()).toBe(0)
  })

  it('pushes only what was queued when the run began', async () => {
    const server = new FakeServer()
    const { db, repo, engine } = device(server, { pushBatchSize: 1 })
    await repo.create('household', household())
    const realPush = server.push.bind(server)
    server.push = async (request) => {
      await repo.create('household', household({ headName: '同步中新增' }))
      return realPush(request)
    }
    await engine.sync()
    expect(server.pushes).toHaveLength(1)
    expect(await db.outbox.count()).toBe(1)
  })

  it('stops with a TransportError when the server says "more" without moving its cursor', async () => {
    const server = new FakeServer()
    server.pull = async (query) => ({
      protocol: 1,
      clock: '1700000000000:0000:server',
      records: [],
      cursor: query.since,
      more: true,
      scopeKey: 'scope-1',
    })
    const { engine } = device(server)
    await expect(engine.sync()).rejects.toBeInstanceOf(TransportError)
  })
})
