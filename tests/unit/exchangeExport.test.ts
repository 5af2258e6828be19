import { describe, expect, it } from 'vitest'
import Papa from 'papaparse'
import { BOM, safeCell, toCsv } from '../../src/exchange/csv.ts'
import { EXPORT_COLUMNS, exportRows, toGeoJson, type ExportRecord } from '../../src/exchange/recordExport.ts'

const NOW = 1_760_000_000_000

describe('CSV for Excel', () => {
  it('starts with a BOM, quotes what needs quoting and ends lines with CRLF', () => {
    const text = toCsv(
      ['名称', '备注'],
      [
        ['横山村', 'a "quoted", text\nline 2'],
        [1.5, null],
      ],
    )
    expect(text.startsWith(BOM)).toBe(true)
    expect(text).toBe(`${BOM}名称,备注\r\n横山村,"a ""quoted"", text\nline 2"\r\n1.5,\r\n`)
    const parsed = Papa.parse<string[]>(text.slice(1), { skipEmptyLines: true })
    expect(parsed.data).toEqual([
      ['名称', '备注'],
      ['横山村', 'a "quoted", text\nline 2'],
      ['1.5', ''],
    ])
  })

  it('neutralises cells a spreadsheet would run as formulas', () => {
    for (const evil of ['=HYPERLINK("http://x")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1']) {
      expect(safeCell(evil).replace(/^"/, '').startsWith("'")).toBe(true)
    }
    expect(safeCell('=1,2')).toBe(`"'=1,2"`)
    expect(safeCell('正常文本')).toBe('正常文本')
    expect(safeCell('a=b')).toBe('a=b')
    // Numbers are numbers, not text: a negative longitude stays a number.
    expect(safeCell(-122.5)).toBe('-122.5')
  })
})

const records: ExportRecord[] = [
  {
    id: 'h1',
    kind: 'household',
    gridId: '330523101001001',
    updatedAt: NOW,
    fields: {
      gridId: '330523101001001',
      address: '=cmd|" /C calc"!A0',
      houseNumber: '12号',
      headName: '张三',
      headPhone: '138****1234',
      housing: 'owned',
      location: { lat: 30.6, lng: 119.6 },
    },
  },
  {
    id: 'i1',
    kind: 'incident',
    gridId: '330523101001002',
    updatedAt: NOW,
    fields: {
      gridId: '330523101001002',
      category: 'safety',
      urgency: 'urgent',
      status: 'dispatched',
      description: '桥栏杆松动',
      reportedAt: Date.UTC(2026, 0, 2, 1, 30),
      deadlineAt: NOW - 1,
      location: { lat: 30.61, lng: 119.61 },
    },
  },
]
const labels = {
  columnLabel: (column: string) => `h:${column}`,
  valueLabel: (column: string, value: string) => `${column}:${value}`,
  gridName: (id: string) => `grid ${id.slice(-3)}`,
}

describe('export of the filtered view', () => {
  it('writes one row per record with the values as the device holds them (masked stays masked)', () => {
    const { header, rows } = exportRows(records, labels, NOW)
    expect(header).toHaveLength(EXPORT_COLUMNS.length)
    const row = (i: number) => Object.fromEntries(EXPORT_COLUMNS.map((column, c) => [column, rows[i]![c]]))
    expect(row(0)).toMatchObject({
      kind: 'kind:household',
      gridName: 'grid 001',
      title: '张三',
      headPhone: '138****1234',
      status: null,
      overdue: null,
      lat: 30.6,
      lng: 119.6,
    })
    expect(row(1)).toMatchObject({
      status: 'status:dispatched',
      category: 'category:safety',
      overdue: 'overdue:true',
      reportedAt: '2026-01-02 09:30',
      title: '桥栏杆松动',
    })
    // Through the CSV writer the formula-like address is defused.
    const text = toCsv(header, rows)
    const parsed = Papa.parse<string[]>(text.slice(1), { skipEmptyLines: true }).data
    expect(parsed[1]![EXPORT_COLUMNS.indexOf('address')]).toBe(`'=cmd|" /C calc"!A0 12号`)
  })

  it('makes a GeoJSON FeatureCollection of points in [lng, lat] with the fields as properties', () => {
    const geo = toGeoJson(records, NOW)
    expect(geo.type).toBe('FeatureCollection')
    expect(geo.features.map((f) => f.geometry)).toEqual([
      { type: 'Point', coordinates: [119.6, 30.6] },
      { type: 'Point', coordinates: [119.61, 30.61] },
    ])
    expect(geo.features[0]!.properties).toMatchObject({
      kind: 'household',
      id: 'h1',
      headPhone: '138****1234',
    })
    expect(geo.features[0]!.properties).not.toHaveProperty('location')
    expect(geo.features[1]!.properties).toMatchObject({ status: 'dispatched', overdue: true })
    expect(JSON.parse(JSON.stringify(geo))).toEqual(geo)
  })
})
