import { describe, expect, it, vi } from 'vitest'
import { SearchIndex, type IndexableRecord, type IndexChanges } from '../../src/db/SearchIndex.ts'

const household = (id: string, updatedAt: number, headName: string, extra: Partial<IndexableRecord> = {}) =>
  ({
    id,
    kind: 'household',
    fields: { headName, address: '横山村' },
    deleted: 0,
    gridId: 'g1',
    updatedAt,
    ...extra,
  }) satisfies IndexableRecord

const changes = (entries: [string, IndexableRecord | null][], cleared = false): IndexChanges => ({
  records: new Map(entries),
  cleared,
})

/** A load whose chunks resolve when the test says so. */
function manualLoad() {
  const calls: ((records: IndexableRecord[]) => void)[] = []
  const load = () => new Promise<IndexableRecord[]>((resolve) => calls.push(resolve))
  return { load, calls }
}

/** Chunks of stored records by id, as IndexedDB answers them. */
const chunksOf =
  (records: IndexableRecord[]) =>
  async (afterId: string | null, limit: number): Promise<IndexableRecord[]> =>
    [...records]
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .filter((record) => afterId === null || record.id > afterId)
      .slice(0, limit)

describe('SearchIndex', () => {
  it('replays writes that committed while a kind was loading, in commit order, over the snapshot', async () => {
    const { load, calls } = manualLoad()
    const index = new SearchIndex(load)
    const searching = index.search('household', [], {}, 0, 10)
    await Promise.resolve()
    // Committed after the snapshot was taken: a new record, an edit, a delete and a put-then-delete.
    index.apply(changes([['c', household('c', 30, '新户')]]))
    index.apply(changes([['a', household('a', 40, '改名')]]))
    index.apply(changes([['b', null]]))
    index.apply(changes([['d', household('d', 50, '临时')]]))
    index.apply(changes([['d', null]]))
    calls[0]!([household('a', 10, '旧名'), household('b', 20, '要删')])
    expect(await searching).toEqual(['a', 'c'])
    expect(await index.search('household', ['改名'], {}, 0, 10)).toEqual(['a'])
    expect(await index.search('household', ['旧名'], {}, 0, 10)).toEqual([])
  })

  it('discards a load overtaken by a clear and loads again', async () => {
    const { load, calls } = manualLoad()
    const index = new SearchIndex(load)
    const searching = index.search('household', [], {}, 0, 10)
    await Promise.resolve()
    index.apply(changes([], true))
    calls[0]!([household('stale', 10, '清空前')])
    await vi.waitFor(() => expect(calls).toHaveLength(2))
    calls[1]!([household('fresh', 20, '清空后')])
    expect(await searching).toEqual(['fresh'])
  })

  it('orders newest first (ties by id, descending), filters, pages, and finds households by members', async () => {
    const records: IndexableRecord[] = [
      household('h1', 10, '王建国'),
      household('h2', 30, '李秀英', { gridId: 'g2' }),
      household('h3', 30, '赵大海'),
      {
        id: 'p1',
        kind: 'person',
        fields: {
          name: '王小明',
          idNumber: '330523201205010117',
          phone: '13700009999',
          tags: ['left_behind_child'],
        },
        deleted: 0,
        gridId: 'g1',
        updatedAt: 5,
        parentId: 'h1',
      },
    ]
    // Chunks of 2 records: the load reads several chunks, a tombstone among them.
    records.push(household('h0', 60, '已删除', { deleted: 1 }))
    const index = new SearchIndex(chunksOf(records), 2)
    expect(await index.search('household', [], {}, 0, 10)).toEqual(['h3', 'h2', 'h1'])
    expect(await index.page('household', 1, 1)).toEqual(['h2'])
    expect(await index.search('household', [], { gridId: 'g1' }, 0, 10)).toEqual(['h3', 'h1'])
    expect(await index.search('household', ['小明'], {}, 0, 10)).toEqual(['h1'])
    expect(await index.search('household', ['3305232012'], {}, 0, 10)).toEqual(['h1'])
    expect(await index.search('household', ['9999'], {}, 0, 10)).toEqual(['h1'])
    expect(await index.search('person', [], { tag: 'left_behind_child' }, 0, 10)).toEqual(['p1'])
    expect(await index.search('person', [], { tag: 'disabled' }, 0, 10)).toEqual([])
    // An edit moves a record to the top; a tombstone leaves the index.
    index.apply(changes([['h1', household('h1', 40, '王建国')]]))
    index.apply(changes([['h2', household('h2', 50, '李秀英', { deleted: 1 })]]))
    expect(await index.search('household', [], {}, 0, 10)).toEqual(['h1', 'h3'])
    expect(await index.count('household')).toBe(2)
  })
})
