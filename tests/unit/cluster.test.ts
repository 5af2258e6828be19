import { describe, expect, it } from 'vitest'
import { ClusterEngine, CLUSTER_MAX_ZOOM } from '../../src/map/clusterEngine.ts'
import type { BBox } from '../../src/map/clusterEngine.ts'
import { createClusterClient } from '../../src/map/clusterClient.ts'
import { replyTo } from '../../src/map/clusterProtocol.ts'
import type { ClusterEnvelope, ClusterReply } from '../../src/map/clusterProtocol.ts'
import { activeFilterCount, emptyFilter, isOverdue, pointFilter } from '../../src/map/mapFilter.ts'
import type { MapFilter } from '../../src/map/mapFilter.ts'
import { mapPointOf } from '../../src/map/mapPoints.ts'
import type { MapRecordPoint } from '../../src/map/mapPoints.ts'
import { displayProjector, resolveBasemap, storageProjector } from '../../src/map/basemaps.ts'
import { shadeFor } from '../../src/map/gridShading.ts'

const NOW = 1_760_000_000_000
const DAY = 86_400_000
const WORLD: BBox = [-180, -85, 180, 85]

function point(overrides: Partial<MapRecordPoint> & { id: string }): MapRecordPoint {
  return {
    kind: 'household',
    lng: 119.6,
    lat: 30.6,
    grid: '330523101001001',
    status: null,
    category: null,
    urgency: null,
    deadlineAt: null,
    at: NOW,
    ...overrides,
  }
}

const filterOf = (overrides: Partial<MapFilter>): MapFilter => ({ ...emptyFilter(), ...overrides })

describe('map points from records', () => {
  const record = (
    fields: Record<string, unknown>,
    extra: Partial<{ kind: string; deleted: 0 | 1 }> = {},
  ) => ({
    id: 'r1',
    kind: (extra.kind ?? 'incident') as 'incident',
    gridId: '330523101001002',
    deleted: extra.deleted ?? 0,
    updatedAt: 5,
    fields,
  })

  it('take kind, grid, status, category, urgency, deadline and report time from the fields', () => {
    expect(
      mapPointOf(
        record({
          location: { lat: 30.1, lng: 119.2 },
          status: 'dispatched',
          category: 'safety',
          urgency: 'urgent',
          deadlineAt: NOW + DAY,
          reportedAt: NOW - DAY,
          gridId: '330523101001001',
        }),
      ),
    ).toEqual({
      kind: 'incident',
      id: 'r1',
      lng: 119.2,
      lat: 30.1,
      grid: '330523101001001',
      status: 'dispatched',
      category: 'safety',
      urgency: 'urgent',
      deadlineAt: NOW + DAY,
      at: NOW - DAY,
    })
  })

  it('leave out tombstones, unlocated records and kinds that are not drawn as points', () => {
    expect(mapPointOf(record({ location: { lat: 30, lng: 119 } }, { deleted: 1 }))).toBeNull()
    expect(mapPointOf(record({ location: null }))).toBeNull()
    expect(mapPointOf(record({ location: { lat: 'x', lng: 119 } }))).toBeNull()
    expect(mapPointOf(record({ location: { lat: 30, lng: 119 } }, { kind: 'person' }))).toBeNull()
    const household = mapPointOf(
      record({ location: { lat: 30, lng: 119 }, status: 'x' }, { kind: 'household' }),
    )
    expect(household).toMatchObject({ kind: 'household', status: null, grid: '330523101001002', at: 5 })
  })
})

describe('map filters', () => {
  const incident = point({
    id: 'i',
    kind: 'incident',
    status: 'dispatched',
    category: 'safety',
    deadlineAt: NOW - 1,
    at: NOW - 3 * DAY,
  })
  const household = point({ id: 'h', grid: '330523101001002', at: NOW - 10 * DAY })

  it('derive overdue from the deadline and the clock, only while the handler owes the work', () => {
    expect(isOverdue(incident, NOW)).toBe(true)
    expect(isOverdue(incident, NOW - 2)).toBe(false)
    expect(isOverdue({ ...incident, status: 'handled' }, NOW)).toBe(false)
    expect(isOverdue({ ...incident, deadlineAt: null }, NOW)).toBe(false)
    expect(isOverdue(household, NOW)).toBe(false)
  })

  it('keep what matches every set group; empty groups match anything', () => {
    const keep = (filter: Partial<MapFilter>) =>
      [incident, household].filter(pointFilter(filterOf(filter), NOW)).map((p) => p.id)
    expect(keep({})).toEqual(['i', 'h'])
    expect(keep({ kinds: ['household'] })).toEqual(['h'])
    expect(keep({ kinds: [] })).toEqual([])
    expect(keep({ categories: ['safety'] })).toEqual(['i'])
    expect(keep({ categories: ['dispute'] })).toEqual([])
    expect(keep({ statuses: ['dispatched', 'closed'] })).toEqual(['i'])
    expect(keep({ overdueOnly: true })).toEqual(['i'])
    expect(keep({ grids: ['330523101001002'] })).toEqual(['h'])
    expect(keep({ from: NOW - 5 * DAY })).toEqual(['i'])
    expect(keep({ to: NOW - 5 * DAY })).toEqual(['h'])
    expect(keep({ from: NOW - 3 * DAY, to: NOW - 3 * DAY })).toEqual(['i'])
    expect(activeFilterCount(filterOf({ overdueOnly: true, grids: ['g'], from: 1 }))).toBe(3)
    expect(activeFilterCount(emptyFilter())).toBe(0)
  })
})

/** `n` points on a small grid of positions around (119.6, 30.6), every `incidentEvery`-th an open incident. */
function cloud(n: number, incidentEvery = 4): MapRecordPoint[] {
  return Array.from({ length: n }, (_, i) =>
    point({
      id: `p${i}`,
      kind: i % incidentEvery === 0 ? 'incident' : 'household',
      status: i % incidentEvery === 0 ? (i % 3 === 0 ? 'closed' : 'reported') : null,
      lng: 119.6 + (i % 50) * 0.0004,
      lat: 30.6 + Math.floor(i / 50) * 0.0004,
      grid: i % 2 === 0 ? '330523101001001' : '330523101001002',
    }),
  )
}

describe('the cluster engine', () => {
  it('groups close points into clusters that count every point, and splits them when zoomed in', () => {
    const engine = new ClusterEngine({ clusterAbove: 0 })
    const points = cloud(2000)
    expect(engine.load(points)).toBe(2000)
    const far = engine.query(WORLD, 8)
    expect(far.points).toHaveLength(0)
    expect(far.clusters.reduce((sum, c) => sum + c.count, 0)).toBe(2000)
    const near = engine.query(WORLD, CLUSTER_MAX_ZOOM + 1)
    expect(near.clusters).toHaveLength(0)
    expect(near.points).toHaveLength(2000)
  })

  it('counts open and overdue incidents into each cluster', () => {
    const engine = new ClusterEngine({ clusterAbove: 0 })
    const points = cloud(400)
    points[1] = { ...points[1]!, kind: 'incident', status: 'in_progress', deadlineAt: NOW - 1 }
    engine.load(points, emptyFilter(), NOW)
    const { clusters } = engine.query(WORLD, 5)
    const open = points.filter(
      (p) => p.kind === 'incident' && !['closed', 'voided', 'rated'].includes(p.status!),
    )
    expect(clusters.reduce((sum, c) => sum + c.open, 0)).toBe(open.length)
    expect(clusters.reduce((sum, c) => sum + c.overdue, 0)).toBe(1)
  })

  it('answers only the viewport asked for', () => {
    const engine = new ClusterEngine({ clusterAbove: 0 })
    engine.load([point({ id: 'a', lng: 119.6, lat: 30.6 }), point({ id: 'b', lng: 100, lat: 40 })])
    const view = engine.query([119, 30, 120, 31], 18)
    expect(view.points.map((p) => p.id)).toEqual(['a'])
  })

  it('re-indexes on a filter change, so counts are exact for the filtered view', () => {
    const engine = new ClusterEngine({ clusterAbove: 0 })
    engine.load(cloud(2000))
    const shown = engine.setFilter(filterOf({ kinds: ['incident'] }), NOW)
    expect(shown).toBe(500)
    const { clusters, points } = engine.query(WORLD, 8)
    expect(clusters.reduce((sum, c) => sum + c.count, 0) + points.length).toBe(500)
    expect(engine.total).toBe(2000)
  })

  it('zooms a cluster open at its expansion zoom', () => {
    const engine = new ClusterEngine({ clusterAbove: 0 })
    engine.load(cloud(200))
    const [cluster] = engine.query(WORLD, 10).clusters
    expect(cluster).toBeDefined()
    const zoom = engine.expansionZoom(cluster!.id)
    expect(zoom).toBeGreaterThan(10)
    const around: BBox = [cluster!.lng - 0.05, cluster!.lat - 0.05, cluster!.lng + 0.05, cluster!.lat + 0.05]
    expect(engine.query(around, zoom).clusters.every((c) => c.count < cluster!.count)).toBe(true)
  })

  it('counts open incidents per grid over every point, whatever the filter', () => {
    const engine = new ClusterEngine({ clusterAbove: 0 })
    const points = cloud(40)
    engine.load(points, filterOf({ kinds: ['household'] }))
    const expected: Record<string, number> = {}
    for (const p of points) {
      if (p.kind === 'incident' && p.status !== 'closed') expected[p.grid] = (expected[p.grid] ?? 0) + 1
    }
    expect(engine.openByGrid()).toEqual(expected)
    expect(engine.countByKind()).toEqual({ incident: 10, household: 30 })
    expect(engine.heat()).toEqual([])
    engine.setFilter(emptyFilter(), NOW)
    expect(engine.heat()).toHaveLength(10)
  })
})

describe('a small set of points', () => {
  it('is drawn point by point, all of them, without clusters up to the threshold', () => {
    const engine = new ClusterEngine({ clusterAbove: 100 })
    engine.load(cloud(100))
    const view = engine.query(WORLD, 3)
    expect(view.clusters).toHaveLength(0)
    expect(view.points).toHaveLength(100)
    expect(engine.query([0, 0, 1, 1], 3).points).toHaveLength(100)
    engine.load(cloud(101))
    expect(engine.query(WORLD, 3).clusters.length).toBeGreaterThan(0)
  })
})

describe('the cluster client without a Worker', () => {
  it('runs the same engine in the page, asynchronously', async () => {
    const client = createClusterClient(null)
    expect(client.inWorker).toBe(false)
    const summary = await client.request({
      type: 'load',
      points: cloud(300),
      filter: emptyFilter(),
      now: NOW,
    })
    expect(summary).toMatchObject({ total: 300, shown: 300 })
    const view = await client.request({ type: 'query', bbox: WORLD, zoom: 3 })
    expect(view.clusters.reduce((sum, c) => sum + c.count, 0)).toBe(300)
    client.dispose()
  })

  it('falls back to the page when the worker cannot start', async () => {
    const client = createClusterClient(() => {
      throw new Error('no workers here')
    })
    expect(client.inWorker).toBe(false)
    const summary = await client.request({ type: 'load', points: cloud(10), filter: emptyFilter(), now: NOW })
    expect(summary.shown).toBe(10)
  })
})

/** A stand-in Worker: answers with the real handler on a later task, or dies on the first message. */
function fakeWorker(dies: boolean) {
  const engine = new ClusterEngine()
  const worker = {
    onmessage: null as ((event: MessageEvent<ClusterReply>) => void) | null,
    onerror: null as (() => void) | null,
    terminated: false,
    postMessage(envelope: ClusterEnvelope) {
      setTimeout(() => {
        if (dies) worker.onerror?.()
        else worker.onmessage?.({ data: replyTo(engine, envelope) } as MessageEvent<ClusterReply>)
      }, 0)
    },
    terminate() {
      worker.terminated = true
    },
  }
  return worker
}

describe('the cluster client with a worker', () => {
  it('sends requests to the worker and matches the answers', async () => {
    const worker = fakeWorker(false)
    const client = createClusterClient(() => worker as unknown as Worker)
    expect(client.inWorker).toBe(true)
    const [summary, view] = await Promise.all([
      client.request({ type: 'load', points: cloud(300), filter: emptyFilter(), now: NOW }),
      client.request({ type: 'query', bbox: WORLD, zoom: 3 }),
    ])
    expect(summary.total).toBe(300)
    expect(view.clusters.reduce((sum, c) => sum + c.count, 0)).toBe(300)
    client.dispose()
    expect(worker.terminated).toBe(true)
  })

  it('fails what a dying worker held, then answers in the page (loaded again first)', async () => {
    const worker = fakeWorker(true)
    const client = createClusterClient(() => worker as unknown as Worker)
    await expect(
      client.request({ type: 'load', points: cloud(10), filter: emptyFilter(), now: NOW }),
    ).rejects.toThrow('cluster worker failed')
    expect(client.lost).toBe(true)
    expect(client.inWorker).toBe(false)
    expect(worker.terminated).toBe(true)
    const summary = await client.request({ type: 'load', points: cloud(10), filter: emptyFilter(), now: NOW })
    expect(summary.shown).toBe(10)
  })
})

describe('basemaps', () => {
  const config = (basemapUrl: string) => ({ basemapUrl, basemapAttribution: '©' })

  it('tell the provider and projection by the tile host', () => {
    expect(resolveBasemap(config('https://tile.openstreetmap.org/{z}/{x}/{y}.png'))).toMatchObject({
      provider: 'osm',
      crs: 'wgs84',
    })
    expect(resolveBasemap(config(''))).toMatchObject({ provider: 'none', url: '' })
    const amap = resolveBasemap(
      config('https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&style=8&x={x}&y={y}&z={z}'),
    )
    expect(amap).toMatchObject({ provider: 'amap', crs: 'gcj02', subdomains: '1234' })
  })

  it('use 天地图 only with a key, with its label layer on top', () => {
    const url =
      'https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&LAYER=vec&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}'
    expect(resolveBasemap(config(url))).toMatchObject({ provider: 'none', url: '', problem: 'tiandituNoKey' })
    expect(resolveBasemap(config(`${url}&tk={tk}`))).toMatchObject({ problem: 'tiandituNoKey' })
    const keyed = resolveBasemap(config(`${url}&tk=abc123`))
    expect(keyed).toMatchObject({ provider: 'tianditu', crs: 'wgs84', url: `${url}&tk=abc123` })
    expect(keyed.overlayUrl).toBe(
      'https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&LAYER=cva&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=abc123',
    )
  })

  it('convert to GCJ-02 for display only, and back again within centimetres', () => {
    const [lng, lat] = displayProjector('gcj02')(119.6, 30.6)
    // GCJ-02 shifts positions in China by a few hundred metres.
    expect(Math.abs(lng - 119.6) + Math.abs(lat - 30.6)).toBeGreaterThan(0.002)
    const [backLng, backLat] = storageProjector('gcj02')(lng, lat)
    expect(backLng).toBeCloseTo(119.6, 6)
    expect(backLat).toBeCloseTo(30.6, 6)
    expect(displayProjector('wgs84')(119.6, 30.6)).toEqual([119.6, 30.6])
  })
})

describe('grid shading', () => {
  it('puts counts into the legend buckets', () => {
    expect(shadeFor(0).max).toBe(0)
    expect(shadeFor(2)).toMatchObject({ min: 1, max: 2 })
    expect(shadeFor(3)).toMatchObject({ min: 3 })
    expect(shadeFor(500)).toMatchObject({ min: 10, max: null })
  })
})
