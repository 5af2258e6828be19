/**
 * A save writes only its record and its op: the op's seq and stamp are the device's record of them until the op
 * leaves the outbox, and every path that takes ops out raises meta past them first (src/db/deviceClock.ts). These
 * tests empty the outbox by each path, reopen the database as a new tab would, and check that the next op neither
 * reuses a seq (the server would take it for a retry and drop it) nor goes back in time, with the phone's wall clock
 * set back and a server whose clock is behind (so its answers do not carry the device clock forward by themselves).
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { GridPatrolDb } from '../../src/db/GridPatrolDb.ts'
import { lastIssued } from '../../src/db/deviceClock.ts'
import type { Transport } from '../../src/sync/ports.ts'
import { FakeServer } from './fakeServer.ts'
import { T0, household, testDevice } from './testDevice.ts'
import { PROTOCOL_VERSION } from '#shared/sync/protocol.ts'
import { formatStamp, stampMs } from '#shared/sync/hlc.ts'

const opened: GridPatrolDb[] = []
afterEach(async () => {
  for (const db of opened.splice(0)) if (db.isOpen()) await db.delete()
})

/** A server a day behind the phone: the clock in its answers is older than any stamp the phone made. */
function serverBehind(server: FakeServer): Transport {
  const stale = `${T0 - 86_400_000}:0000:server`
  return {
    push: async (request) => ({ ...(await server.push(request)), clock: stale }),
    pull: async (query) => ({ ...(await server.pull(query)), clock: stale }),
    confirmWiped: () => server.confirmWiped(),
  }
}

function device(server: FakeServer, name?: string) {
  const d = testDevice(serverBehind(server), name === undefined ? {} : { name })
  opened.push(d.db)
  return d
}

/** Three saves, then what the device issued last: the newest op's seq and stamp. */
async function threeSaves(d: ReturnType<typeof device>) {
  const id = await d.repo.create('household', household())
  await d.repo.update('household', id, { memberCount: 2 })
  await d.repo.update('household', id, { memberCount: 3 })
  const newest = (await d.db.outbox.orderBy(':id').last())!
  return { id, seq: newest.seq, stamp: newest.stamp }
}

/** The next save of a reopened tab whose wall clock was set back a minute. */
async function nextSaveAfterReopen(first: ReturnType<typeof device>, server: FakeServer) {
  first.db.close()
  const again = device(server, first.name)
  again.advance(-60_000)
  await again.repo.create('household', household({ headName: '再开' }))
  return (await again.db.outbox.orderBy(':id').last())!
}

const DAY = 86_400_000

/** A server with the real one's drift check (syncService.ts): a stamp over 5 minutes ahead of its clock is refused. */
function skewChecked() {
  const server = new FakeServer()
  server.now = T0
  server.refuse = (op) =>
    stampMs(op.stamp) > server.now + 300_000
      ? { code: 'clock_skew', reason: '手机时间比服务器快了 1 天' }
      : null
  const phone = testDevice(server)
  opened.push(phone.db)
  return { server, phone }
}

describe('device clock and op seq', () => {
  it('continue after an acknowledged push emptied the outbox and the tab reopened', async () => {
    const server = new FakeServer()
    const first = device(server)
    const last = await threeSaves(first)
    expect(await first.engine.sync()).toMatchObject({ pushed: 3 })
    expect(await first.db.outbox.count()).toBe(0)
    expect(await lastIssued(first.db)).toMatchObject({ seq: last.seq })

    const next = await nextSaveAfterReopen(first, server)
    expect(next.seq).toBe(last.seq + 1)
    expect(next.stamp > last.stamp).toBe(true)
  })

  it('continue after a refused push was dismissed, leaving neither outbox nor refused ops', async () => {
    const server = new FakeServer()
    server.refuse = () => ({ code: 'invalid_field', reason: '不可用', field: 'headName' })
    const first = device(server)
    const last = await threeSaves(first)
    expect(await first.engine.sync()).toMatchObject({ refused: 3 })
    for (const refusal of await first.db.refused.toArray()) await first.repo.dismissRefused(refusal.seq)
    expect(await first.db.outbox.count()).toBe(0)
    expect(await first.db.refused.count()).toBe(0)

    const next = await nextSaveAfterReopen(first, server)
    expect(next.seq).toBe(last.seq + 1)
    expect(next.stamp > last.stamp).toBe(true)
  })

  it('a retried refusal gets a new seq and a later stamp, and so does the save after it', async () => {
    const server = new FakeServer()
    server.refuse = (op) =>
      op.seq === 3 ? { code: 'invalid_field', reason: '不可用', field: 'memberCount' } : null
    const first = device(server)
    const last = await threeSaves(first)
    await first.engine.sync()
    const [refusal] = await first.db.refused.toArray()
    first.advance(-60_000)
    expect(await first.repo.retryRefused(refusal!.seq)).toBe(true)
    const retried = (await first.db.outbox.orderBy(':id').last())!
    expect(retried.seq).toBe(last.seq + 1)
    expect(retried.stamp > last.stamp).toBe(true)
    server.refuse = () => null
    expect(await first.engine.sync()).toMatchObject({ pushed: 1 })

    const next = await nextSaveAfterReopen(first, server)
    expect(next.seq).toBe(retried.seq + 1)
    expect(next.stamp > retried.stamp).toBe(true)
  })

  it('comes back to the server clock after a clock_skew refusal: set right, the phone retries with a stamp of now', async () => {
    const { server, phone } = skewChecked()
    phone.advance(DAY) // the phone's clock runs a day fast
    const id = await phone.repo.create('household', household())
    await phone.engine.sync()
    const [refusal] = await phone.db.refused.toArray()
    expect(refusal?.code).toBe('clock_skew')
    expect(server.records.has(id)).toBe(false)

    // Still fast: the next stamp still follows the phone's wall clock, and is refused in turn.
    await phone.repo.update('household', id, { memberCount: 2 })
    const fast = (await phone.db.outbox.orderBy(':id').last())!
    expect(stampMs(fast.stamp)).toBeGreaterThanOrEqual(T0 + DAY)
    await phone.engine.sync()
    expect(await phone.db.refused.count()).toBe(2)

    // Set right (自动获取网络时间), the user retries both: stamped now, after everything the server took, and taken.
    phone.advance(-DAY)
    for (const { seq } of await phone.db.refused.toArray())
      expect(await phone.repo.retryRefused(seq)).toBe(true)
    const retried = await phone.db.outbox.orderBy(':id').toArray()
    expect(retried.map((op) => op.seq)).toEqual([fast.seq + 1, fast.seq + 2])
    for (const op of retried) expect(stampMs(op.stamp)).toBeLessThan(T0 + 300_000)
    expect(retried[0]!.stamp > formatStamp(server.clock)).toBe(true)
    expect(await phone.engine.sync()).toMatchObject({ pushed: 2 })
    expect(await phone.db.refused.count()).toBe(0)
    expect(server.records.get(id)?.fields).toMatchObject({ headName: '王建国', memberCount: 2 })

    // A reopened tab goes on from there: a new seq, a stamp after the retries.
    const next = await nextSaveAfterReopen(phone, server)
    expect(next.seq).toBe(fast.seq + 3)
    expect(next.stamp > retried[1]!.stamp).toBe(true)
  })

  it('a later edit replaces a field a clock_skew refusal left a day ahead, on the phone and on the server', async () => {
    const { server, phone } = skewChecked()
    const id = await phone.repo.create('household', household())
    await phone.engine.sync()
    phone.advance(DAY)
    await phone.repo.update('household', id, { headName: '快手机改的名字' })
    await phone.engine.sync()
    expect(await phone.db.refused.count()).toBe(1)

    phone.advance(-DAY)
    expect(await phone.repo.update('household', id, { headName: '改对了的名字' })).toBe(true)
    expect((await phone.db.records.get(id))?.fields.headName).toBe('改对了的名字')
    expect(await phone.engine.sync()).toMatchObject({ pushed: 1 })
    expect(server.records.get(id)?.fields.headName).toBe('改对了的名字')
    expect((await phone.db.records.get(id))?.fields.headName).toBe('改对了的名字')
  })

  it('a save after earlier ones stamps after a clock received since', async () => {
    const server = new FakeServer()
    const d = device(server)
    await d.repo.create('household', household())
    await d.repo.create('household', household({ headName: '二' }))
    const ahead = `${T0 + 3_600_000}:0000:server`
    await d.store.applyPullPage({
      protocol: PROTOCOL_VERSION,
      clock: ahead,
      records: [],
      cursor: 0,
      more: false,
      scopeKey: 'k',
    })
    const afterClock = await d.repo.create('household', household({ headName: '三' }))
    const op = (await d.db.outbox.orderBy(':id').last())!
    expect(op).toMatchObject({ id: afterClock, seq: 3 })
    expect(op.stamp > ahead).toBe(true)
  })

  it('a tab does not reuse a seq that another tab issued and a push acknowledged', async () => {
    const server = new FakeServer()
    const tabA = device(server)
    const tabB = device(server, tabA.name)
    await tabB.repo.create('household', household({ headName: '乙一' }))
    await tabB.repo.create('household', household({ headName: '乙二' }))
    await tabA.repo.create('household', household({ headName: '甲' })) // seq 3, which tab B has not seen
    expect(await tabA.engine.sync()).toMatchObject({ pushed: 3 }) // the outbox is empty again
    await tabB.repo.create('household', household({ headName: '乙三' }))
    expect((await tabB.db.outbox.toArray()).map((op) => op.seq)).toEqual([4])
  })

  it('a save writes its record and its op, not meta', async () => {
    const server = new FakeServer()
    const first = device(server)
    await first.repo.create('household', household())
    const metaBefore = await first.db.meta.toArray()
    let metaWrites = 0
    first.db.meta.hook('creating', () => void metaWrites++)
    first.db.meta.hook('updating', () => void metaWrites++)
    await threeSaves(first)
    expect(metaWrites).toBe(0)
    expect(await first.db.meta.toArray()).toEqual(metaBefore)
  })
})
