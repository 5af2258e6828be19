import { enableAutoUnmount } from '@vue/test-utils'
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import Papa from 'papaparse'
import MapExportButton from '../../src/components/exchange/MapExportButton.vue'
import type { LocalRecord } from '../../src/db/GridPatrolDb.ts'
import { emptyFilter } from '../../src/map/mapFilter.ts'
import { GRID_A, GRID_B, LEADER, NOW, drainVantTimers, mountWith, setupEnv, type TestEnv } from './harness.ts'

const toast = vi.hoisted(() => vi.fn())
vi.mock('vant', async (importOriginal) => ({
  ...(await importOriginal<object>()),
  showToast: toast,
}))

enableAutoUnmount(afterEach)
afterAll(drainVantTimers)

let env: TestEnv
const files: Blob[] = []
beforeEach(async () => {
  files.length = 0
  toast.mockClear()
  vi.spyOn(URL, 'createObjectURL').mockImplementation((blob) => {
    files.push(blob as Blob)
    return `blob:test-${files.length}`
  })
  vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => undefined)
  env = await setupEnv({ user: LEADER })
})
afterEach(async () => {
  vi.restoreAllMocks()
  document.body.innerHTML = ''
  await env.close()
})

const uuid = (n: number) => `0190a000-0000-7000-8000-${String(n).padStart(12, '0')}`
function record(
  n: number,
  kind: LocalRecord['kind'],
  gridId: string,
  fields: Record<string, unknown>,
): LocalRecord {
  return {
    id: uuid(n),
    kind,
    fields: { gridId, location: { lat: 30.6, lng: 119.6 + n * 0.001 }, ...fields },
    stamps: {},
    deleted: 0,
    gridId,
    villageId: '330523101001',
    townId: '330523101',
    countyId: '330523',
    updatedAt: NOW,
    serverSeq: 1,
    pending: 0,
  }
}

async function seed() {
  await env.db.records.bulkPut([
    // The leader's device holds the phone masked, as the server sent it.
    record(1, 'household', GRID_A, {
      address: '@横山村1号',
      housing: 'owned',
      headName: '张三',
      headPhone: '138****1234',
    }),
    record(2, 'household', GRID_B, { address: '横山村2号', housing: 'owned', headName: '李四' }),
    record(3, 'incident', GRID_A, {
      category: 'safety',
      urgency: 'normal',
      status: 'reported',
      description: '=1+1',
      reportedAt: NOW - 1000,
    }),
  ])
}

describe('export of the map view', () => {
  it('exports the filtered records as Excel-ready CSV and as GeoJSON', async () => {
    await seed()
    const filter = { ...emptyFilter(), grids: [GRID_A] }
    const { wrapper } = mountWith(MapExportButton, env, {
      props: { filter, kinds: ['household', 'place', 'incident'] },
    })
    await wrapper.get('[data-testid="map-export-open"]').trigger('click')
    await vi.waitFor(() => expect(document.querySelector('[data-testid="map-export-csv"]')).not.toBeNull())
    ;(document.querySelector('[data-testid="map-export-csv"]') as HTMLElement).click()
    await vi.waitFor(() => expect(files).toHaveLength(1), { timeout: 15_000 })
    const csv = await files[0]!.text()
    expect(csv.charCodeAt(0)).toBe(0xfeff)
    const rows = Papa.parse<string[]>(csv.slice(1), { skipEmptyLines: true }).data
    const header = rows[0]!
    const col = (name: string) => header.indexOf(name)
    expect(rows).toHaveLength(3) // header + the two records of grid A
    const household = rows.find((row) => row[col('编号')] === uuid(1))!
    expect(household[col('类型')]).toBe('住户')
    expect(household[col('户主电话')]).toBe('138****1234')
    expect(household[col('地址')]).toBe("'@横山村1号")
    const incident = rows.find((row) => row[col('编号')] === uuid(3))!
    expect(incident[col('名称/户主/描述')]).toBe("'=1+1")
    expect(incident[col('状态')]).toBe('已上报')
    expect(incident[col('是否超期')]).toBe('否')

    expect(toast).toHaveBeenLastCalledWith('已导出 2 条')
    await wrapper.get('[data-testid="map-export-open"]').trigger('click')
    await vi.waitFor(() =>
      expect(document.querySelector('[data-testid="map-export-geojson"]')).not.toBeNull(),
    )
    ;(document.querySelector('[data-testid="map-export-geojson"]') as HTMLElement).click()
    await vi.waitFor(() => expect(files).toHaveLength(2), { timeout: 15_000 })
    const geo = JSON.parse(await files[1]!.text()) as {
      type: string
      features: { id: string; geometry: unknown }[]
    }
    expect(geo.type).toBe('FeatureCollection')
    expect(geo.features.map((f) => f.id).sort()).toEqual([uuid(1), uuid(3)])
    expect(geo.features.find((f) => f.id === uuid(3))!.geometry).toEqual({
      type: 'Point',
      coordinates: [119.603, 30.6],
    })
  })

  it('says so when nothing matches the filters', async () => {
    await seed()
    const { wrapper } = mountWith(MapExportButton, env, {
      props: {
        filter: { ...emptyFilter(), statuses: ['closed'] },
        kinds: ['household', 'place', 'incident'],
      },
    })
    await wrapper.get('[data-testid="map-export-open"]').trigger('click')
    await vi.waitFor(() => expect(document.querySelector('[data-testid="map-export-csv"]')).not.toBeNull())
    ;(document.querySelector('[data-testid="map-export-csv"]') as HTMLElement).click()
    await vi.waitFor(() => expect(toast).toHaveBeenCalledWith('当前筛选下没有可导出的记录'), {
      timeout: 15_000,
    })
    expect(files).toHaveLength(0)
  })
})
