import { describe, expect, it } from 'vitest'
import { pullResponseSchema, PROTOCOL_VERSION } from '#shared/sync/protocol.ts'

const STAMP = '1732233600000:0000:server'
const record = (stamps: Record<string, unknown>) => ({
  kind: 'household',
  id: '0190a000-0000-7000-8000-000000000001',
  fields: { address: '横山村1号', headName: '张三' },
  stamps,
  seq: 1,
  scope: { gridId: 'g', villageId: 'v', townId: 't', countyId: 'c' },
})
const page = (records: unknown[]) => ({
  protocol: PROTOCOL_VERSION,
  clock: STAMP,
  records,
  cursor: 1,
  more: false,
  scopeKey: 'worker:g',
})

describe('the field maps of a pull page (fieldMap in protocol.ts)', () => {
  it('passes a page through with its records’ fields and stamps as they came', () => {
    const stamps = { address: STAMP, headName: STAMP }
    const parsed = pullResponseSchema.parse(page([record(stamps)]))
    expect(parsed.records[0]!.stamps).toEqual(stamps)
    expect(parsed.records[0]!.fields).toEqual({ address: '横山村1号', headName: '张三' })
  })

  it.each([
    ['an invalid stamp', { address: STAMP, headName: 'yesterday' }, ['records', 0, 'stamps', 'headName']],
    ['a stamp that is not a string', { address: 17 }, ['records', 0, 'stamps', 'address']],
    ['stamps that are a list', [STAMP], ['records', 0, 'stamps']],
  ])('refuses %s, naming where', (_, stamps, path) => {
    const result = pullResponseSchema.safeParse(page([record(stamps as Record<string, unknown>)]))
    expect(result.success).toBe(false)
    expect(result.error?.issues[0]?.path).toEqual(path)
  })
})
