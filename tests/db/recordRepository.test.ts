import { afterEach, describe, expect, it } from 'vitest'
import { validate as isUuid, version as uuidVersion } from 'uuid'
import { parseStamp } from '#shared/sync/hlc.ts'
import type { GridPatrolDb } from '../../src/db/GridPatrolDb.ts'
import { lastIssued, retireOutbox } from '../../src/db/deviceClock.ts'
import { ValidationError } from '../../src/db/recordRepository.ts'
import { FakeServer } from './fakeServer.ts'
import { GRID, T0, household, testDevice } from './testDevice.ts'
import { PROTOCOL_VERSION } from '#shared/sync/protocol.ts'

const opened: GridPatrolDb[] = []
const device = (name?: string) => {
  const d = testDevice(new FakeServer(), name === undefined ? {} : { name })
  opened.push(d.db)
  return d
}
afterEach(async () => {
  for (const db of opened.splice(0)) if (db.isOpen()) await db.delete()
})

describe('recordRepository', () => {
  it('writes a record and its op in one transaction: a failed op write leaves no record and no clock tick', async () => {
    const { db, repo } = device()
    await repo.create('household', household())
    const issuedBefore = await lastIssued(db)
    db.outbox.hook('creating', () => {
      throw new Error('disk full')
    })
    await expect(repo.create('household', household({ headName: '李四' }))).rejects.toThrow('disk full')
    expect(await db.records.count()).toBe(1)
    expect(await db.outbox.count()).toBe(1)
    expect(await lastIssued(db)).toEqual(issuedBefore)
  })

  it('creates with a UUIDv7 id, a create op with null bases, and stamps from the device clock', async () => {
    const { db, repo } = device()
    const id = await repo.create('household', household({ notes: '  有老人独居  ' }))
    expect(isUuid(id) && uuidVersion(id)).toBe(7)
    const record = (await repo.get(id))!
    const [op] = await db.outbox.toArray()
    const deviceId = (await db.getMeta('deviceId'))!
    expect(deviceId).toMatch(/^[A-Za-z0-9_-]{8,64}$/)
    expect(op).toMatchObject({ type: 'put', seq: 1, kind: 'household', id, create: true })
    expect(op!.type === 'put' && op!.fields).toEqual(record.fields)
    expect(record.fields['notes']).toBe('有老人独居') // the schema's trim
    expect(op!.base).toEqual(Object.fromEntries(Object.keys(record.fields).map((f) => [f, null])))
    expect(parseStamp(op!.stamp).node).toBe(deviceId)
    expect(new Set(Object.values(record.stamps))).toEqual(new Set([op!.stamp]))
    expect(record).toMatchObject({ gridId: GRID, deleted: 0, pending: 1, serverSeq: 0 })
  })

  it('patches only the fields that changed, with the base each had; no change makes no op', async () => {
    const { db, repo, advance } = device()
    const id = await repo.create('household', household())
    const created = (await repo.get(id))!
    advance(1000)
    expect(await repo.update('household', id, { headName: '王建国', address: '横山村13号' })).toBe(true)
    const ops = await db.outbox.toArray()
    expect(ops).toHaveLength(2)
    const edit = ops[1]!
    expect(edit.type === 'put' && edit.fields).toEqual({ address: '横山村13号' })
    expect(edit.base).toEqual({ address: created.stamps['address'] })
    expect(edit.prev).toEqual({ address: created.fields['address'] })
    expect(edit.type === 'put' && edit.create).toBe(false)
    expect(edit.stamp > created.stamps['address']!).toBe(true)
    const updated = (await repo.get(id))!
    expect(updated.stamps['headName']).toBe(created.stamps['headName'])
    expect(updated.stamps['address']).toBe(edit.stamp)

    expect(await repo.update('household', id, { address: '横山村13号', headName: '王建国' })).toBe(false)
    expect(await db.outbox.count()).toBe(2)

    await repo.update('household', id, { notes: '新增备注' })
    const added = (await db.outbox.toArray())[2]!
    expect(added.base).toEqual({ notes: null })
  })

  it('deletes with a tombstone op naming every stamp it saw, plus _deleted', async () => {
    const { db, repo } = device()
    const id = await repo.create('household', household())
    await repo.update('household', id, { memberCount: 4 })
    const before = (await repo.get(id))!
    expect(await repo.remove('household', id)).toBe(true)
    const del = (await db.outbox.toArray()).at(-1)!
    expect(del.type).toBe('delete')
    expect(del.base).toEqual({ ...before.stamps, _deleted: null })
    expect((await repo.get(id))!.deleted).toBe(1)
    expect(await repo.remove('household', id)).toBe(false)
    await expect(repo.update('household', id, { notes: 'x' })).rejects.toThrow('record not found')
  })

  it('refuses invalid input with a ValidationError naming the field, and writes nothing', async () => {
    const { db, repo } = device()
    const error = await repo.create('household', household({ headPhone: '12345' })).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect(error).toMatchObject({ field: 'headPhone', message: '手机号应为11位数字' })
    await expect(repo.create('household', household({ color: 'red' }))).rejects.toMatchObject({
      field: 'color',
    })
    const id = await repo.create('household', household())
    await expect(repo.update('household', id, { address: '' })).rejects.toMatchObject({ field: 'address' })
    expect(await db.outbox.count()).toBe(1)
  })

  it('a masked value the server sent (e.g. a phone for a leader) may come back unchanged: it is no edit', async () => {
    const server = new FakeServer()
    const id = '0190a000-0000-7000-8000-000000000001'
    server.writeFromElsewhere('household', id, household({ headPhone: '138****5678' }), 1_700_000_000_000)
    const d = testDevice(server)
    opened.push(d.db)
    await d.engine.sync()
    expect(await d.repo.update('household', id, { headPhone: '138****5678', notes: '已走访' })).toBe(true)
    const [op] = await d.db.outbox.toArray()
    expect(op).toMatchObject({ type: 'put', fields: { notes: '已走访' } })
    expect(Object.keys(op!.type === 'put' ? op!.fields : {})).toEqual(['notes'])
    await expect(d.repo.update('household', id, { headPhone: '139****0000' })).rejects.toMatchObject({
      field: 'headPhone',
    })
  })

  it('issues strictly increasing op seqs, never reused across reopen or after the outbox is emptied', async () => {
    const first = device()
    const id = await first.repo.create('household', household())
    await first.repo.update('household', id, { memberCount: 2 })
    first.db.close()

    const again = device(first.name)
    await again.repo.update('household', id, { memberCount: 3 })
    const seqs = (await again.db.outbox.toArray()).map((op) => op.seq)
    expect(seqs).toEqual([1, 2, 3])
    // All acknowledged: whatever takes ops out of the outbox first raises meta past them (deviceClock.ts).
    await again.db.transaction('rw', again.db.outbox, again.db.meta, async () => {
      await retireOutbox(again.db, () => 'unused')
      await again.db.outbox.clear()
    })
    await again.repo.update('household', id, { memberCount: 4 })
    again.db.close()

    const third = device(first.name)
    await third.repo.update('household', id, { memberCount: 5 })
    expect((await third.db.outbox.toArray()).map((op) => op.seq)).toEqual([4, 5])
    expect((await lastIssued(third.db)).seq).toBe(5)
  })

  it('two tabs on one database never issue the same seq or stamp, however their saves interleave', async () => {
    const tabA = device()
    const tabB = device(tabA.name)
    const id = await tabA.repo.create('household', household())
    let saves = 1
    for (let i = 0; i < 10; i++) {
      // Taking turns: each tab's guess of the clock is stale after the other's save, and the stale save is retried.
      await tabA.repo.update('household', id, { memberCount: 1 + i })
      await tabB.repo.create('household', household({ headName: `乙${i}` }))
      // And at once: their transactions queue behind each other.
      await Promise.all([
        tabA.repo.update('household', id, { notes: `甲${i}` }),
        tabB.repo.create('household', household({ headName: `丙${i}` })),
      ])
      saves += 4
    }
    const ops = await tabA.db.outbox.orderBy(':id').toArray()
    expect(ops).toHaveLength(saves)
    expect(ops.map((op) => op.seq)).toEqual(Array.from({ length: ops.length }, (_, i) => i + 1))
    const stamps = ops.map((op) => op.stamp)
    expect(new Set(stamps).size).toBe(stamps.length)
    expect([...stamps].sort()).toEqual(stamps)
    expect((await lastIssued(tabB.db)).seq).toBe(ops.length)
  })

  it('stamps an edit after a clock it received from the server, even though the tab had a guess of its own', async () => {
    const { db, repo, store } = device()
    const id = await repo.create('household', household())
    const ahead = `${T0 + 3_600_000}:0000:server`
    await store.applyPullPage({
      protocol: PROTOCOL_VERSION,
      clock: ahead,
      records: [],
      cursor: 0,
      more: false,
      scopeKey: 'k',
    })
    await repo.update('household', id, { memberCount: 7 })
    const [, edit] = await db.outbox.orderBy(':id').toArray()
    expect(edit!.stamp > ahead).toBe(true)
  })
})
