/**
 * The leader map's clustering at 100,000 points (BENCH_MAP_POINTS), in Node on the same pure code the web worker runs
 * (src/map/clusterEngine.ts; supercluster is plain JS). Deterministic data, no randomness. Benchmarks, not tests:
 * `npm run bench` prints these rows with the others.
 */
import { ClusterEngine } from '../../src/map/clusterEngine.ts'
import type { BBox } from '../../src/map/clusterEngine.ts'
import { emptyFilter, pointFilter } from '../../src/map/mapFilter.ts'
import type { MapFilter } from '../../src/map/mapFilter.ts'
import type { MapRecordPoint } from '../../src/map/mapPoints.ts'

export interface ClusterBenchRow {
  name: string
  value: string
  goal: string
}

const POINTS = Number(process.env.BENCH_MAP_POINTS ?? 100_000)
const NOW = 1_760_000_000_000
const STATUSES = [
  'reported',
  'accepted',
  'dispatched',
  'in_progress',
  'handled',
  'closed',
  'rated',
  'returned',
]
const CATEGORIES = ['dispute', 'safety', 'order', 'environment', 'livelihood', 'care', 'other']

/** A county of about 50 × 45 km (安吉县's size), points gathered in 40 villages as real ones are. */
export function benchMapPoints(n: number): MapRecordPoint[] {
  const points: MapRecordPoint[] = []
  for (let i = 0; i < n; i++) {
    const village = i % 40
    const centreLng = 119.4 + (village % 8) * 0.06
    const centreLat = 30.4 + Math.floor(village / 8) * 0.08
    // A deterministic scatter (golden-angle spiral) of about 2 km around the village centre.
    const r = Math.sqrt((i * 0.618034) % 1) * 0.02
    const angle = i * 2.399963
    const kind = i % 5 === 0 ? 'incident' : i % 5 === 1 ? 'place' : 'household'
    points.push({
      kind,
      id: `p${i}`,
      lng: centreLng + r * Math.cos(angle),
      lat: centreLat + r * Math.sin(angle),
      grid: `330523${String(100 + (village % 5)).padStart(3, '0')}${String(village).padStart(3, '0')}${String(
        1 + (i % 4),
      ).padStart(3, '0')}`,
      status: kind === 'incident' ? STATUSES[i % STATUSES.length]! : null,
      category: kind === 'incident' ? CATEGORIES[i % CATEGORIES.length]! : null,
      urgency: kind === 'incident' ? (i % 3 === 0 ? 'urgent' : 'normal') : null,
      deadlineAt: kind === 'incident' ? NOW + ((i % 11) - 5) * 86_400_000 : null,
      at: NOW - (i % 365) * 86_400_000,
    })
  }
  return points
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!
const ms = (x: number) => `${x.toFixed(2)} ms`

function time(run: () => void): number {
  const t0 = performance.now()
  run()
  return performance.now() - t0
}

/** A 360 × 640 px phone viewport at `zoom` centred on (lng, lat), in degrees (Web Mercator, near 30°N). */
function phoneViewport(lng: number, lat: number, zoom: number): BBox {
  const degPerPx = 360 / (256 * 2 ** zoom)
  const halfW = 180 * degPerPx
  const halfH = 320 * degPerPx * Math.cos((lat * Math.PI) / 180)
  return [lng - halfW, lat - halfH, lng + halfW, lat + halfH]
}

export function clusterBenchRows(n = POINTS): ClusterBenchRow[] {
  const points = benchMapPoints(n)
  const engine = new ClusterEngine()
  engine.load(points) // warm-up (JIT)
  const index = median([0, 1, 2].map(() => time(() => engine.load(points, emptyFilter(), NOW))))

  // Pans and zooms as a leader does them: every zoom from the county to the street, over the villages.
  const queries: number[] = []
  const sizes: number[] = []
  for (let i = 0; i < 600; i++) {
    const zoom = 9 + (i % 10) // 9 … 18
    const village = (i * 7) % 40
    const lng = 119.4 + (village % 8) * 0.06 + ((i % 13) - 6) * 0.002
    const lat = 30.4 + Math.floor(village / 8) * 0.08 + ((i % 11) - 5) * 0.002
    let drawn = 0
    queries.push(
      time(() => {
        const view = engine.query(phoneViewport(lng, lat, zoom), zoom)
        drawn = view.clusters.length + view.points.length
      }),
    )
    sizes.push(drawn)
  }

  const incidentsOnly: MapFilter = { ...emptyFilter(), kinds: ['incident'] }
  const overdueSafety: MapFilter = { ...emptyFilter(), categories: ['safety'], overdueOnly: true }
  const reindexAll = median([0, 1, 2].map(() => time(() => engine.setFilter(emptyFilter(), NOW))))
  const reindexIncidents = median([0, 1, 2].map(() => time(() => engine.setFilter(incidentsOnly, NOW))))
  const reindexNarrow = median([0, 1, 2].map(() => time(() => engine.setFilter(overdueSafety, NOW))))
  // The alternative, filtering at query time: at the least, one pass of the filter over every point per pan.
  const keep = pointFilter(incidentsOnly, NOW)
  const scan = median([0, 1, 2, 3, 4].map(() => time(() => points.filter(keep))))
  const clone = median([0, 1, 2].map(() => time(() => structuredClone(points))))

  const count = n.toLocaleString('en-US')
  return [
    {
      name: `map: cluster index of ${count} points (supercluster, Node)`,
      value: ms(index),
      goal: '≤ 1,000 ms',
    },
    {
      name: `map: viewport query among ${count} points, zoom 9–18 on a 360×640 phone, p50 / p95 (max ${Math.max(...sizes)} drawn)`,
      value: `${ms(percentile(queries, 0.5))} / ${ms(percentile(queries, 0.95))}`,
      goal: 'p95 ≤ 16 ms',
    },
    {
      name: `map: filter change = re-index (all / incidents ${(n / 5).toLocaleString('en-US')} / overdue safety)`,
      value: `${ms(reindexAll)} / ${ms(reindexIncidents)} / ${ms(reindexNarrow)}`,
      goal: '',
    },
    {
      name: `map: filtering at query time instead: one filter pass over ${count} points, per pan`,
      value: ms(scan),
      goal: '',
    },
    { name: `map: copying ${count} points to the worker (structuredClone)`, value: ms(clone), goal: '' },
  ]
}
