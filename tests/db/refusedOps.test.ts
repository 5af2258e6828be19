import { afterEach, describe, expect, it } from 'vitest'
import type { GridPatrolDb } from '../../src/db/GridPatrolDb.ts'
import { FakeServer } from './fakeServer.ts'
import { T0, household, testDevice } from './testDevice.ts'

const opened: GridPatrolDb[] = []
afterEach(async () => {
  for (const db of opened.splice(0)) if (db.isOpen()) await db.delete()
})

/** A device whose server refuses every op writing `memberCount: 99` (a stand-in for a workflow rule). */
async function setup() {
  const server = new FakeServer()
  server.refuse = (op) =>
    op.type === 'put' && op.fields['memberCount'] === 99
      ? { code: 'workflow', reason: '不允许', field: 'memberCount' }
      : null
  const device = testDevice(server)
  opened.push(device.db)
  const id = await device.repo.create('household', household({ memberCount: 2 }))
  await device.engine.sync()
  return { server, id, ...device }
}

const stateOf = async (db: GridPatrolDb, id: string) => {
  const record = await db.records.get(id)
  return record && { fields: record.fields, stamps: record.stamps }
}

describe('refused ops', () => {
  it('dismissing a refused edit undoes it locally, so the device matches the server again', async () => {
    const { server, id, db, repo, engine, advance } = await setup()
    advance(1000)
    await repo.update('household', id, { memberCount: 99, notes: '同批修改' })
    await engine.sync()
    const [refused] = await db.refused.toArray()
    expect((await db.records.get(id))!.fields['memberCount']).toBe(99)

    await repo.dismissRefused(refused!.seq)
    expect(await db.refused.count()).toBe(0)
    expect(await stateOf(db, id)).toEqual(server.state(id))
    expect(server.state(id)!.fields['memberCount']).toBe(2)
  })

  it('dismissing a refused create removes the record from the device', async () => {
    const { db, repo, engine } = await setup()
    const id = await repo.create('household', household({ memberCount: 99 }))
    await engine.sync()
    await repo.dismissRefused((await db.refused.toArray())[0]!.seq)
    expect(await db.records.get(id)).toBeUndefined()
  })

  it('a remote write held back while an op was refused is shown once the refusal is dismissed', async () => {
    const { server, id, db, repo, engine, advance } = await setup()
    advance(1000)
    await repo.update('household', id, { memberCount: 99 })
    await engine.sync()
    server.writeFromElsewhere('household', id, { memberCount: 7 }, T0 + 500) // between the base and the refused edit
    server.refuse = () => null
    advance(1000)
    await engine.sync()
    expect((await db.records.get(id))!.fields['memberCount']).toBe(99) // refusal not dismissed yet
    await repo.dismissRefused((await db.refused.toArray())[0]!.seq)
    expect(await stateOf(db, id)).toEqual(server.state(id))
    expect(server.state(id)!.fields['memberCount']).toBe(7)
  })

  it('retrying queues the op again with a new seq and the base the server knows', async () => {
    const { server, id, db, repo, engine, advance } = await setup()
    const before = (await db.records.get(id))!
    advance(1000)
    await repo.update('household', id, { memberCount: 99 })
    await engine.sync()
    const [refused] = await db.refused.toArray()
    server.refuse = () => null // e.g. the phone's clock was fixed

    expect(await repo.retryRefused(refused!.seq)).toBe(true)
    const [retried] = await db.outbox.toArray()
    expect(retried!.seq).toBeGreaterThan(refused!.seq)
    expect(retried!.stamp > refused!.stamp).toBe(true)
    expect(retried!.base).toEqual({ memberCount: before.stamps['memberCount'] })
    await engine.sync()
    expect(await db.refused.count()).toBe(0)
    expect(await stateOf(db, id)).toEqual(server.state(id))
    expect(server.state(id)!.fields['memberCount']).toBe(99)
  })

  it('an edit after a refused one names the base the server knows, not the refused stamp', async () => {
    const { id, db, repo, engine, advance } = await setup()
    const before = (await db.records.get(id))!
    advance(1000)
    await repo.update('household', id, { memberCount: 99 })
    await engine.sync()
    advance(1000)
    await repo.update('household', id, { memberCount: 3 })
    const [edit] = await db.outbox.toArray()
    expect(edit!.base).toEqual({ memberCount: before.stamps['memberCount'] })
  })
})
