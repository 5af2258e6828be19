import { afterEach, describe, expect, it, vi } from 'vitest'
import { Dexie } from 'dexie'
import { idCheckCharacter } from '#shared/domain/idNumber.ts'
import type { GridPatrolDb } from '../../src/db/GridPatrolDb.ts'
import { clearDraft, loadDraft, saveDraft } from '../../src/db/drafts.ts'
import { addPhoto, sha256Hex } from '../../src/db/photoStore.ts'
import type { ShrinkImage } from '../../src/db/photoStore.ts'
import { childrenOf, countLive, findDuplicates, listPage, searchRecords } from '../../src/db/recordQueries.ts'
import { ValidationError } from '../../src/db/recordRepository.ts'
import { FakeServer } from './fakeServer.ts'
import { GRID, freshDbName, household, testDevice } from './testDevice.ts'

const opened: GridPatrolDb[] = []
const device = (name?: string) => {
  const d = testDevice(new FakeServer(), name === undefined ? {} : { name })
  opened.push(d.db)
  return d
}
afterEach(async () => {
  for (const db of opened.splice(0)) if (db.isOpen()) await db.delete()
})

/** A valid ID number: area 330523, birth date, sequence (odd 3rd digit: male), check character. */
const idOf = (birth: string, sequence: string) => {
  const first17 = `330523${birth.replaceAll('-', '')}${sequence}`
  return first17 + idCheckCharacter(first17)
}
const person = (householdId: string, overrides: Record<string, unknown> = {}) => ({
  gridId: GRID,
  householdId,
  name: '王建国',
  gender: 'male',
  birthDate: '1980-01-15',
  idNumber: idOf('1980-01-15', '001'),
  phone: '13812345678',
  relation: 'head',
  populationType: 'registered',
  ...overrides,
})

async function validationErrorOf(promise: Promise<unknown>): Promise<ValidationError> {
  const error = await promise.then(
    () => null,
    (failure: unknown) => failure,
  )
  expect(error).toBeInstanceOf(ValidationError)
  return error as ValidationError
}

describe('repository validation of members', () => {
  it('refuses a wrong check digit and an ID inconsistent with birth date or gender, next to the field', async () => {
    const { repo } = device()
    const householdId = await repo.create('household', household())
    const good = idOf('1980-01-15', '001')
    const badCheck = good.slice(0, 17) + (good[17] === '0' ? '1' : '0')
    expect(
      (await validationErrorOf(repo.create('person', person(householdId, { idNumber: badCheck })))).field,
    ).toBe('idNumber')
    const wrongBirth = await validationErrorOf(
      repo.create('person', person(householdId, { birthDate: '1980-01-16' })),
    )
    expect(wrongBirth.field).toBe('birthDate')
    expect(wrongBirth.message).toBe('出生日期与身份证号不一致')
    const wrongGender = await validationErrorOf(
      repo.create('person', person(householdId, { gender: 'female' })),
    )
    expect(wrongGender.field).toBe('gender')
    expect(await repo.create('person', person(householdId))).toBeTypeOf('string')
  })

  it('checks the merged record on update, so a birth date cannot drift from the ID number', async () => {
    const { db, repo } = device()
    const householdId = await repo.create('household', household())
    const id = await repo.create('person', person(householdId))
    const opsBefore = await db.outbox.count()
    const error = await validationErrorOf(repo.update('person', id, { birthDate: '1981-01-15' }))
    expect(error.field).toBe('birthDate')
    const tagged = await validationErrorOf(repo.update('person', id, { tags: ['disabled'] }))
    expect(tagged.field).toBe('disabilityGrade')
    expect(await db.outbox.count()).toBe(opsBefore)
    // Changing both together is consistent, and so is the tag with its grade.
    const newId = idOf('1981-01-15', '001')
    expect(await repo.update('person', id, { birthDate: '1981-01-15', idNumber: newId })).toBe(true)
    expect(await repo.update('person', id, { tags: ['disabled'], disabilityGrade: 2 })).toBe(true)
  })

  it('does not judge an untouched masked value the server sent', async () => {
    const { db, repo } = device()
    const householdId = await repo.create('household', household())
    const id = await repo.create('person', person(householdId))
    await db.records.update(id, (record) => {
      record.fields = { ...record.fields, idNumber: '3305**********1234', phone: '138****5678' }
    })
    expect(await repo.update('person', id, { name: '王建军' })).toBe(true)
  })
})

describe('search, lists and duplicates', () => {
  it('finds households by name, address segment, and members by ID prefix and phone suffix', async () => {
    const { repo, db } = device()
    const a = await repo.create('household', household({ headName: '王建国', address: '递铺街道横山村12号' }))
    const b = await repo.create(
      'household',
      household({ headName: '李秀英', address: '孝丰镇溪南村 3组', headPhone: '13900001111' }),
    )
    await repo.create('household', household({ headName: 'Zhang Wei', address: 'Xinan Road 8' }))
    const ids = async (kind: 'household' | 'person', query: string) =>
      (await searchRecords(db, kind, query)).map((record) => record.id).sort()
    expect(await ids('household', '建国')).toEqual([a])
    expect(await ids('household', '横山')).toEqual([a])
    expect(await ids('household', '横山村12号')).toEqual([a])
    expect(await ids('household', '溪南村 李')).toEqual([b])
    expect(await ids('household', '1111')).toEqual([b])
    expect(await ids('household', 'zha')).toHaveLength(1)
    expect(await ids('household', '不存在')).toEqual([])

    const m1 = await repo.create('person', person(a))
    const m2 = await repo.create(
      'person',
      person(a, {
        name: '王小明',
        birthDate: '2012-05-01',
        idNumber: idOf('2012-05-01', '011'),
        phone: '13700009999',
        relation: 'child',
      }),
    )
    expect(await ids('person', '330523')).toEqual([m1, m2].sort())
    expect(await ids('person', '3305231980')).toEqual([m1])
    expect(await ids('person', '33052320120501')).toEqual([m2])
    expect(await ids('person', '9999')).toEqual([m2])
    // A household is found by its members too.
    expect(await ids('household', '3305232012')).toEqual([a])
    expect(await ids('household', '小明')).toEqual([a])
    expect(await ids('household', '9999')).toEqual([a])

    // Edits re-index; deletes leave the index.
    await repo.update('household', a, { address: '递铺街道竹林村12号' })
    expect(await ids('household', '横山')).toEqual([])
    expect(await ids('household', '竹林')).toEqual([a])
    await repo.remove('household', b)
    expect(await ids('household', '溪南')).toEqual([])

    expect((await childrenOf(db, 'person', a)).map((r) => r.id).sort()).toEqual([m1, m2].sort())
  })

  it('pages of a query are consecutive slices of all its matches, newest first, whatever the page size', async () => {
    const d = device()
    const created: { id: string; address: string; headName: string }[] = []
    for (let i = 0; i < 12; i++) {
      d.advance(1000)
      const fields = { headName: `户主${i}`, address: i % 3 ? `横山村${i}组` : `溪南村${i}组` }
      created.push({ id: await d.repo.create('household', household(fields)), ...fields })
    }
    // An edit makes a record the newest; a delete removes it from every page.
    d.advance(1000)
    await d.repo.update('household', created[1]!.id, { headName: '户主1改' })
    created[1]!.headName = '户主1改'
    created.push(created.splice(1, 1)[0]!)
    await d.repo.remove('household', created[0]!.id)
    created.shift()
    const newestFirst = [...created].reverse()
    for (const query of ['横山村', '横山村 3组', '户主', '村', '']) {
      const terms = query.split(' ').filter(Boolean)
      const expected = newestFirst
        .filter((h) => terms.every((term) => `${h.headName} ${h.address}`.includes(term)))
        .map((h) => h.id)
      for (const limit of [1, 2, 5, 50]) {
        const pages: string[] = []
        for (let offset = 0; offset < expected.length + limit; offset += limit) {
          pages.push(...(await searchRecords(d.db, 'household', query, { offset, limit })).map((r) => r.id))
        }
        expect(pages, `${query} by ${limit}`).toEqual(expected)
      }
    }
    expect(await searchRecords(d.db, 'household', '横山', { gridId: '330523101001002' })).toEqual([])
  })

  it("a second database handle on the same device (another tab) sees the first one's writes", async () => {
    const first = device()
    const second = device(first.name)
    expect(await searchRecords(second.db, 'household', '')).toEqual([])
    const id = await first.repo.create('household', household({ headName: '邻页写入' }))
    await vi.waitFor(async () => {
      expect((await searchRecords(second.db, 'household', '邻页')).map((r) => r.id)).toEqual([id])
    })
    await first.repo.remove('household', id)
    await vi.waitFor(async () => expect(await searchRecords(second.db, 'household', '邻页')).toEqual([]))
  })

  it('the index follows saves made around its first load, and a table clear starts it over', async () => {
    const d = device()
    await d.repo.create('household', household({ headName: '先写的' }))
    // The first search starts loading households; a save commits while it loads.
    const searching = searchRecords(d.db, 'household', '')
    const during = await d.repo.create('household', household({ headName: '加载中写的' }))
    await searching
    expect((await searchRecords(d.db, 'household', '加载中')).map((r) => r.id)).toEqual([during])
    await d.db.records.clear()
    expect(await searchRecords(d.db, 'household', '')).toEqual([])
    const after = await d.repo.create('household', household({ headName: '清空后' }))
    expect((await searchRecords(d.db, 'household', '')).map((r) => r.id)).toEqual([after])
  })

  it('filters by grid, tag and status, and pages newest first', async () => {
    const d = device()
    const created: string[] = []
    for (let i = 0; i < 5; i++) {
      d.advance(1000)
      created.push(
        await d.repo.create('household', household({ headName: `户主${i}`, address: `横山村${i}号` })),
      )
    }
    expect(await countLive(d.db, 'household')).toBe(5)
    const page = await listPage(d.db, 'household', 1, 2)
    expect(page.map((r) => r.id)).toEqual([created[3], created[2]])
    expect(await searchRecords(d.db, 'household', '横山', { gridId: '330523101001002' })).toEqual([])
    expect(await searchRecords(d.db, 'household', '横山', { gridId: GRID, limit: 2 })).toHaveLength(2)
    const hh = created[0]!
    await d.repo.create('person', person(hh, { tags: ['disabled'], disabilityGrade: 3 }))
    await d.repo.create(
      'person',
      person(hh, { name: '王芳', gender: 'female', idNumber: idOf('1980-01-15', '002'), relation: 'spouse' }),
    )
    const disabled = await searchRecords(d.db, 'person', '', { tag: 'disabled' })
    expect(disabled.map((r) => r.fields['name'])).toEqual(['王建国'])
  })

  it('warns of duplicates: same ID number, same address', async () => {
    const { repo, db } = device()
    const hh = await repo.create('household', household({ address: '递铺街道横山村12号' }))
    const m = await repo.create('person', person(hh))
    const dupPerson = await findDuplicates(db, 'person', { idNumber: idOf('1980-01-15', '001') })
    expect(dupPerson.map((r) => r.id)).toEqual([m])
    expect(await findDuplicates(db, 'person', { idNumber: idOf('1980-01-15', '001') }, m)).toEqual([])
    expect(await findDuplicates(db, 'person', { idNumber: idOf('1980-01-15', '003') })).toEqual([])
    const dupHousehold = await findDuplicates(db, 'household', { address: ' 递铺街道横山村12号 ' })
    expect(dupHousehold.map((r) => r.id)).toEqual([hh])
    expect(await findDuplicates(db, 'household', { address: '递铺街道横山村13号' })).toEqual([])
    // Moving the household: the old address no longer finds it, the new one does; deleted members are nobody's.
    await repo.update('household', hh, { address: '递铺街道横山村13号' })
    expect(await findDuplicates(db, 'household', { address: '递铺街道横山村12号' })).toEqual([])
    expect(
      (await findDuplicates(db, 'household', { address: '递铺街道横山村13号' })).map((r) => r.id),
    ).toEqual([hh])
    await repo.remove('person', m)
    expect(await findDuplicates(db, 'person', { idNumber: idOf('1980-01-15', '001') })).toEqual([])
  })

  it('a record without a parent makes no [kind+parentId] entry; a member makes one', async () => {
    const { repo, db } = device()
    const hh = await repo.create('household', household())
    const m = await repo.create('person', person(hh))
    const stored = await db.records.get(hh)
    expect(stored).not.toHaveProperty('parentId')
    expect(stored).not.toHaveProperty('dupKey')
    expect((await db.records.get(m))?.parentId).toBe(hh)
    expect(
      await db.records.where('[kind+parentId]').between(['household', ''], ['household', '\uffff']).count(),
    ).toBe(0)
    expect(await db.records.where('[kind+parentId]').equals(['person', hh]).primaryKeys()).toEqual([m])
  })
})

describe('search index maintenance', () => {
  it('pulled records are indexed like local ones, and re-indexed when a pull changes them', async () => {
    const server = new FakeServer()
    const phone = testDevice(server)
    const other = testDevice(server)
    opened.push(phone.db, other.db)
    const hh = await other.repo.create(
      'household',
      household({ headName: '赵大海', address: '孝丰镇溪南村' }),
    )
    const member = await other.repo.create('person', person(hh))
    await other.engine.sync()
    await phone.engine.sync()
    const ids = async (kind: 'household' | 'person', query: string) =>
      (await searchRecords(phone.db, kind, query)).map((record) => record.id)
    expect(await ids('household', '大海')).toEqual([hh])
    expect(await ids('person', '3305231980')).toEqual([member])
    expect((await childrenOf(phone.db, 'person', hh)).map((r) => r.id)).toEqual([member])
    await other.repo.update('household', hh, { headName: '赵小河' })
    await other.repo.remove('person', member)
    await other.engine.sync()
    await phone.engine.sync()
    expect(await ids('household', '大海')).toEqual([])
    expect(await ids('household', '小河')).toEqual([hh])
    expect(await ids('person', '3305231980')).toEqual([])
    expect(await childrenOf(phone.db, 'person', hh)).toEqual([])
  })

  it('an upgrade from a v3 database keeps search and the duplicate check working and drops the old fragment tokens', async () => {
    const name = freshDbName()
    const old = new Dexie(name)
    old.version(3).stores({
      records: 'id, kind, [kind+deleted+updatedAt], gridId, pending, *searchTokens, [kind+parentId]',
      outbox: '++seq, id',
      refused: 'seq, id',
      meta: 'key',
      areas: 'id, level, parentId',
      photoBlobs: 'sha256, uploaded',
      drafts: 'key',
      trackPoints: '++id, trackId',
    })
    await old.table('records').put({
      id: 'h1',
      kind: 'household',
      fields: household({ headName: '钱塘生', address: '孝丰镇 溪南村8号' }),
      stamps: {},
      deleted: 0,
      gridId: GRID,
      villageId: '',
      townId: '',
      countyId: '',
      updatedAt: 1,
      serverSeq: 1,
      pending: 0,
      parentId: '',
      searchTokens: ['household|钱', 'household|塘生'],
    })
    old.close()
    const upgraded = device(name)
    expect((await searchRecords(upgraded.db, 'household', '塘生')).map((record) => record.id)).toEqual(['h1'])
    const duplicates = await findDuplicates(upgraded.db, 'household', { address: '孝丰镇溪南村8号' })
    expect(duplicates.map((record) => record.id)).toEqual(['h1'])
    expect(duplicates[0]).not.toHaveProperty('searchTokens')
  })
})

describe('drafts', () => {
  it('survive closing and reopening the database, until cleared', async () => {
    const first = device()
    await saveDraft(first.db, 'household:new', { headName: '王', address: '' })
    await saveDraft(first.db, 'household:new', { headName: '王建国', address: '横山' })
    first.db.close()
    const again = device(first.name)
    expect(await loadDraft(again.db, 'household:new')).toEqual({ headName: '王建国', address: '横山' })
    expect(await loadDraft(again.db, 'person:x')).toBeNull()
    await clearDraft(again.db, 'household:new')
    expect(await loadDraft(again.db, 'household:new')).toBeNull()
  })
})

describe('photos on the device', () => {
  it('shrinks, hashes and keeps the bytes with the photo record and its op, in one go', async () => {
    const { db, repo, now } = device()
    const hh = await repo.create('household', household())
    const shrunk = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]).buffer
    const calls: number[] = []
    const shrinkImage: ShrinkImage = async (_file, maxSide) => {
      calls.push(maxSide)
      return { data: shrunk.slice(0), mime: 'image/jpeg', width: 1600, height: 1200 }
    }
    const file = new Blob([new Uint8Array(5000)], { type: 'image/jpeg' })
    const id = await addPhoto({ db, repository: repo, now, shrinkImage }, file, {
      kind: 'household',
      id: hh,
      gridId: GRID,
    })
    expect(calls).toEqual([1600])
    const sha = await sha256Hex(shrunk)
    const record = (await repo.get(id))!
    expect(record.fields).toMatchObject({
      ownerKind: 'household',
      ownerId: hh,
      sha256: sha,
      bytes: 8,
      width: 1600,
    })
    const blob = (await db.photoBlobs.get(sha))!
    expect(new Uint8Array(blob.data)).toEqual(new Uint8Array(shrunk))
    expect(blob).toMatchObject({ mime: 'image/jpeg', uploaded: 0, offset: 0, bytes: 8 })
    expect((await db.outbox.toArray()).some((op) => op.id === id)).toBe(true)
    expect((await childrenOf(db, 'photo', hh)).map((r) => r.id)).toEqual([id])
  })

  it('keeps neither the bytes nor the record when the record is refused', async () => {
    const { db, repo, now } = device()
    const shrinkImage: ShrinkImage = async () => ({
      data: new Uint8Array([9]).buffer,
      mime: 'image/jpeg',
      width: 1,
      height: 1,
    })
    const owner = { kind: 'household' as const, id: 'not-a-uuid', gridId: GRID }
    await expect(
      addPhoto({ db, repository: repo, now, shrinkImage }, new Blob([]), owner),
    ).rejects.toBeInstanceOf(ValidationError)
    expect(await db.photoBlobs.count()).toBe(0)
    expect(await db.records.count()).toBe(0)
  })
})
