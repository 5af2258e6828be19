import { describe, expect, it } from 'vitest'
import { BOM } from '../../src/exchange/csv.ts'
import { householdTemplate, parseHouseholdCsv } from '../../src/exchange/householdCsv.ts'

const GRID = '330523101001001'
const mine = (gridId: string) => gridId === GRID

describe('household CSV import', () => {
  it('reads its own template back as one valid row', () => {
    const template = householdTemplate()
    expect(template.startsWith(BOM)).toBe(true)
    const result = parseHouseholdCsv(template, mine)
    expect(result.ok).toBe(true)
    expect(result.rows).toHaveLength(1)
    expect(result.rows[0]).toMatchObject({
      row: 2,
      errors: [],
      fields: {
        gridId: GRID,
        address: '横山村',
        houseNumber: '12号',
        housing: 'owned',
        headName: '张三',
        headPhone: '13800001234',
        memberCount: 3,
        location: { lat: 30.605, lng: 119.605 },
      },
    })
  })

  it('reports each bad row with its row number, column and reason, and keeps the good ones', () => {
    const text = [
      '户主姓名,地址,网格编码,住房情况,户主电话,家庭人数,纬度,经度,不认识的列',
      `王五,横山村3号,${GRID},租赁,,,,,x`, // row 2: good (columns in any order, unknown ignored)
      `,横山村4号,${GRID},自有,,,,,`, // row 3: no head name
      `赵六,横山村5号,${GRID},别墅,,,,,`, // row 4: unknown housing
      `孙七,横山村6号,${GRID},自有,12345,,,,`, // row 5: phone (the shared schema's message)
      `周八,横山村7号,${GRID},自有,,三,,,`, // row 6: member count not a number
      `吴九,横山村8号,${GRID},自有,,,30.6,,`, // row 7: latitude without longitude
      '', // blank lines are skipped but still counted
      `郑十,横山村9号,330523101001099,自有,,,,,`, // row 9: a grid the user may not write to
      `"钱,一","横山村10号, 东",${GRID},借住,,2,30.6,119.6,`, // row 10: quoted commas, good
      `'=冯二,横山村11号,${GRID},自有,,,,,`, // row 11: a defused formula cell reads back without the apostrophe
      `陈三,横山村12号,${GRID},自有,,,95,119.6,`, // row 12: latitude out of range (schema)
    ].join('\r\n')
    const result = parseHouseholdCsv(text, mine)
    expect(result.ok).toBe(true)
    const byRow = Object.fromEntries(result.rows.map((row) => [row.row, row]))
    expect(result.rows.filter((row) => row.fields).map((row) => row.row)).toEqual([2, 10, 11])
    expect(byRow[2]!.fields).toEqual({
      gridId: GRID,
      address: '横山村3号',
      housing: 'rented',
      headName: '王五',
    })
    expect(byRow[10]!.fields).toMatchObject({ headName: '钱,一', address: '横山村10号, 东', memberCount: 2 })
    expect(byRow[11]!.fields?.headName).toBe('=冯二')
    const errorsOf = (row: number) => byRow[row]!.errors.map((e) => [e.column, e.problem])
    expect(errorsOf(3)).toEqual([['headName', 'required']])
    expect(errorsOf(4)).toEqual([['housing', 'housing']])
    expect(errorsOf(5)).toEqual([['headPhone', 'schema']])
    expect(byRow[5]!.errors[0]!.message).toBe('手机号应为11位数字')
    expect(errorsOf(6)).toEqual([['memberCount', 'number']])
    expect(errorsOf(7)).toEqual([['lng', 'location']])
    expect(errorsOf(9)).toEqual([['gridId', 'grid']])
    expect(errorsOf(12)).toEqual([['lat', 'schema']])
  })

  it('refuses a file that lacks a required column, naming the columns', () => {
    const result = parseHouseholdCsv('address,headName\n横山村,张三\n', mine)
    expect(result).toEqual({ ok: false, missingColumns: ['gridId', 'housing'], rows: [] })
  })
})
