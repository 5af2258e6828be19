import { afterEach, describe, expect, it } from 'vitest'
import type { GridPatrolDb } from '../../src/db/GridPatrolDb.ts'
import { TransportError } from '../../src/sync/ports.ts'
import { FakeServer } from './fakeServer.ts'
import { GRID, T0, household, testDevice } from './testDevice.ts'

const OTHER_GRID = '330523101001002'
const uuid = (n: number) => `0190a000-0000-7000-8000-${String(n).padStart(12, '0')}`

const opened: GridPatrolDb[] = []
function device(server: FakeServer, options: Parameters<typeof testDevice>[1] = {}) {
  const d = testDevice(server, options)
  opened.push(d.db)
  return d
}
afterEach(async () => {
  for (const db of opened.splice(0)) if (db.isOpen()) await db.delete()
})

/** A server with three households in GRID and two in OTHER_GRID, and a device that has synced them all. */
async function syncedDevice(options: Parameters<typeof testDevice>[1] = {}) {
  const server = new FakeServer()
  const kept = [1, 2, 3].map(uuid)
  const leaving = [4, 5].map(uuid)
  for (const id of kept) server.writeFromElsewhere('household', id, household(), T0 - 1000)
  for (const id of leaving)
    server.writeFromElsewhere('household', id, household({ gridId: OTHER_GRID }), T0 - 1000)
  const d = device(server, options)
  await d.engine.sync()
  expect(await d.db.records.count()).toBe(5)
  expect(await d.db.getMeta('scopeKey')).toBe('scope-1')
  return { server, kept, leaving, ...d }
}

/** The user loses OTHER_GRID (reassigned, or the grid moved to a village they do not cover). */
function loseOtherGrid(server: FakeServer) {
  server.inScope = (grid) => grid === GRID
  server.scopeKey = 'scope-2'
}

const ids = async (db: GridPatrolDb) => (await db.records.toCollection().primaryKeys()).sort()

describe('scoped sync on the device', () => {
  it('the first pull stores the scope key at its end; an unchanged key means ordinary pulls from the cursor', async () => {
    const { server, db, engine } = await syncedDevice({ pullLimit: 2 })
    expect(server.pulls.map((q) => q.since)).toEqual([0, 2, 4])
    server.writeFromElsewhere('household', uuid(1), { memberCount: 4 }, T0)
    const summary = await engine.sync()
    expect(summary).toMatchObject({ rebuilt: false, evicted: 0, pulled: 1 })
    expect(server.pulls.slice(3).map((q) => q.since)).toEqual([5])
    expect(await db.records.count()).toBe(5)
  })

  it('a new scope key rebuilds: records out of scope leave, and a queued edit is pushed first and reaches the server', async () => {
    const { server, kept, leaving, db, repo, engine, advance } = await syncedDevice()
    advance(1000)
    await repo.update('household', kept[0]!, { notes: '换网格前的修改' })
    loseOtherGrid(server)
    const pullsBefore = server.pulls.length

    const summary = await engine.sync()
    expect(summary).toMatchObject({ pushed: 1, refused: 0, rebuilt: true, evicted: 2 })
    expect(server.state(kept[0]!)!.fields['notes']).toBe('换网格前的修改')
    expect(await ids(db)).toEqual([...kept].sort())
    expect(leaving.some((id) => server.state(id) === undefined)).toBe(false) // they stay on the server
    expect(await db.getMeta('scopeKey')).toBe('scope-2')
    expect(await db.getMeta('pullCursor')).toBe(server.changeSeq)
    // The stored cursor was past everything: the changed key made the device ask again from 0.
    expect(server.pulls.slice(pullsBefore).map((q) => q.since)).toEqual([5, 0])
    expect(await db.outbox.count()).toBe(0)
  })

  it('an edit to a record that left the scope is refused with its reason, kept after the record leaves', async () => {
    const { server, leaving, db, repo, engine, advance } = await syncedDevice()
    advance(1000)
    await repo.update('household', leaving[0]!, { notes: '来不及同步的修改' })
    loseOtherGrid(server)

    const summary = await engine.sync()
    expect(summary).toMatchObject({ pushed: 0, refused: 1, rebuilt: true, evicted: 2 })
    expect(await db.records.get(leaving[0]!)).toBeUndefined()
    const [refusal] = await db.refused.toArray()
    expect(refusal).toMatchObject({
      id: leaving[0],
      code: 'out_of_scope',
      reason: '不在您的管辖范围内',
      fields: { notes: '来不及同步的修改' },
    })
    expect(await db.outbox.count()).toBe(0)
  })

  it('an interrupted rebuild keeps the old key and everything local; the next run rebuilds from 0 and finishes', async () => {
    const { server, kept, leaving, db, engine } = await syncedDevice({ pullLimit: 1 })
    loseOtherGrid(server)
    let pages = 0
    server.beforePull = () => {
      if (++pages === 3) throw new TransportError('network down') // the rebuild's second page
    }
    await expect(engine.sync()).rejects.toBeInstanceOf(TransportError)
    expect(await db.getMeta('scopeKey')).toBe('scope-1')
    expect(await db.records.count()).toBe(5)
    const cursorAfterFailure = (await db.getMeta('pullCursor'))!
    expect(cursorAfterFailure).toBe(1) // the first page of the rebuild was applied

    const pullsBefore = server.pulls.length
    const summary = await engine.sync()
    expect(summary).toMatchObject({ rebuilt: true, evicted: 2 })
    expect(server.pulls.slice(pullsBefore).map((q) => q.since)).toEqual([cursorAfterFailure, 0, 1, 2])
    expect(await ids(db)).toEqual([...kept].sort())
    expect(leaving.every((id) => server.state(id))).toBe(true)
    expect(await db.getMeta('scopeKey')).toBe('scope-2')
  })

  it('a scope that changes in the middle of a run restarts the pull as a rebuild', async () => {
    const { server, kept, db, engine } = await syncedDevice({ pullLimit: 2 })
    server.writeFromElsewhere('household', uuid(6), household(), T0)
    server.writeFromElsewhere('household', uuid(7), household(), T0)
    server.writeFromElsewhere('household', uuid(8), household(), T0)
    const pullsBefore = server.pulls.length
    server.beforePull = (query) => {
      if (query.since > 5) loseOtherGrid(server) // after the first page of this run
    }
    const summary = await engine.sync()
    expect(summary).toMatchObject({ rebuilt: true, evicted: 2 })
    expect(server.pulls.slice(pullsBefore).map((q) => q.since)).toEqual([5, 7, 0, 2, 6])
    expect(await ids(db)).toEqual([...kept, uuid(6), uuid(7), uuid(8)].sort())
    expect(await db.getMeta('scopeKey')).toBe('scope-2')
  })

  it('keeps a record whose op was queued during the rebuild, and drops it on the next run once that op was refused', async () => {
    const { server, leaving, db, repo, engine, advance } = await syncedDevice()
    loseOtherGrid(server)
    const realPull = server.pull.bind(server)
    let edited = false
    server.pull = async (query) => {
      if (!edited) {
        edited = true
        advance(1000)
        await repo.update('household', leaving[1]!, { notes: '同步时的修改' })
      }
      return realPull(query)
    }
    expect(await engine.sync()).toMatchObject({ rebuilt: true, evicted: 1 })
    expect(await ids(db)).toContain(leaving[1])
    expect(await db.getMeta('scopeKey')).toBe('scope-1') // not done: the next run rebuilds again

    expect(await engine.sync()).toMatchObject({ refused: 1, rebuilt: true, evicted: 1 })
    expect(await ids(db)).not.toContain(leaving[1])
    expect(await db.getMeta('scopeKey')).toBe('scope-2')
    expect((await db.refused.toArray()).map((op) => op.id)).toEqual([leaving[1]])
  })

  it('a wipe in a push answer: results applied, the rest of the outbox offered, the server told, then nothing left', async () => {
    const { server, kept, db, repo, engine, advance } = await syncedDevice({ pushBatchSize: 1 })
    server.refuse = (op) =>
      op.type === 'put' && op.fields['notes'] === '拒绝' ? { code: 'workflow', reason: '不允许' } : null
    advance(1000)
    await repo.update('household', kept[0]!, { notes: '丢失前的修改' })
    await repo.update('household', kept[1]!, { notes: '拒绝' })
    const created = await repo.create('household', household({ headName: '新户' }))
    await db.areas.put({ id: GRID, level: 'grid', name: '第一网格', parentId: null, geometry: null })
    server.wipe = true
    const pullsBefore = server.pulls.length

    const summary = await engine.sync()
    expect(summary).toMatchObject({ wiped: true, pushed: 2, refused: 1 })
    expect(server.pushes.map((push) => push.ops.length)).toEqual([1, 1, 1])
    expect(server.state(kept[0]!)!.fields['notes']).toBe('丢失前的修改')
    expect(server.state(created)).toBeDefined()
    expect(server.wipeConfirmations).toBe(1)
    expect(server.pulls.length).toBe(pullsBefore)
    for (const table of [db.records, db.outbox, db.refused, db.areas, db.meta])
      expect(await table.count()).toBe(0)
  })

  it('a wipe in a pull answer deletes everything without applying the page', async () => {
    const { server, db, engine } = await syncedDevice()
    server.writeFromElsewhere('household', uuid(9), household(), T0)
    server.wipe = true
    expect(await engine.sync()).toMatchObject({ wiped: true, pulled: 0 })
    expect(server.wipeConfirmations).toBe(1)
    expect(await db.records.count()).toBe(0)
    expect(await db.meta.count()).toBe(0)
  })

  it('the wipe happens even when the server cannot be told', async () => {
    const { server, db, engine } = await syncedDevice()
    server.wipe = true
    server.confirmWiped = async () => {
      throw new TransportError('network down')
    }
    expect(await engine.sync()).toMatchObject({ wiped: true })
    expect(await db.records.count()).toBe(0)
    expect(await db.meta.count()).toBe(0)
  })
})
