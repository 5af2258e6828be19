/**
 * The leader map's clustering, pure (supercluster is plain JS): it runs in the web worker (clusterWorker.ts), in the
 * page when there is no Worker (tests), and in Node for the benchmark.
 *
 * Invariants:
 * - load() keeps every in-scope point; setFilter() re-indexes the points that pass the filter, so every cluster
 *   count is exact for the filtered view (filtering query results instead would leave clusters counting points that
 *   are filtered out). The index is rebuilt only on load or filter change, never on pan or zoom.
 * - Up to CLUSTER_ABOVE shown points nothing is clustered: every point is drawn, inside the viewport or not.
 * - Grid shading (open incidents per grid) counts every loaded point, whatever the filter: it is the state of the
 *   area, not of the view.
 */
import Supercluster from 'supercluster'
import type { ClusterProperties, PointFeature } from 'supercluster'
import { isOpenIncident, isOverdue, pointFilter, emptyFilter } from './mapFilter.ts'
import type { MapFilter } from './mapFilter.ts'
import type { MapRecordPoint } from './mapPoints.ts'

/** [west, south, east, north] in WGS-84 degrees. */
export type BBox = [number, number, number, number]

/** Clusters are made up to this zoom; above it every point is drawn on its own. */
export const CLUSTER_MAX_ZOOM = 17
/** Cluster radius in screen pixels (a thumb's width on a phone). */
export const CLUSTER_RADIUS = 60

interface PointProps {
  /** Index into the filtered points. */
  i: number
  /** 1 for an open incident, else 0 (summed into clusters to colour them). */
  open: number
  overdue: number
}
type ClusterProps = Omit<PointProps, 'i'>

export interface MapCluster {
  id: number
  lng: number
  lat: number
  count: number
  /** Open incidents in the cluster. */
  open: number
  overdue: number
}

export type ViewPoint = MapRecordPoint & { overdue: boolean }

export interface ClusterView {
  clusters: MapCluster[]
  points: ViewPoint[]
}

/**
 * Up to this many shown points, every point is drawn on its own: a worker's grid (a few dozen records) reads better
 * as points, and clustering pays off only for a leader's thousands.
 */
export const CLUSTER_ABOVE = 200

export class ClusterEngine {
  private readonly clusterAbove: number
  private all: MapRecordPoint[] = []
  private shown: MapRecordPoint[] = []
  private index: Supercluster<PointProps, ClusterProps> = ClusterEngine.emptyIndex()
  private now = 0

  constructor(options: { clusterAbove?: number } = {}) {
    this.clusterAbove = options.clusterAbove ?? CLUSTER_ABOVE
  }

  private static emptyIndex(): Supercluster<PointProps, ClusterProps> {
    return new Supercluster<PointProps, ClusterProps>({
      radius: CLUSTER_RADIUS,
      maxZoom: CLUSTER_MAX_ZOOM,
      map: (props) => ({ open: props.open, overdue: props.overdue }),
      reduce: (accumulated, props) => {
        accumulated.open += props.open
        accumulated.overdue += props.overdue
      },
    })
  }

  /** Keep every in-scope point and index those that pass `filter`. Returns how many are shown. */
  load(points: MapRecordPoint[], filter: MapFilter = emptyFilter(), now = 0): number {
    this.all = points
    return this.setFilter(filter, now)
  }

  /** Re-index the points that pass `filter` (overdue judged at `now`). Returns how many are shown. */
  setFilter(filter: MapFilter, now: number): number {
    this.now = now
    const keep = pointFilter(filter, now)
    this.shown = this.all.filter(keep)
    const features: PointFeature<PointProps>[] = this.shown.map((point, i) => ({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [point.lng, point.lat] },
      properties: {
        i,
        open: isOpenIncident(point) ? 1 : 0,
        overdue: isOverdue(point, now) ? 1 : 0,
      },
    }))
    this.index = ClusterEngine.emptyIndex().load(features)
    return this.shown.length
  }

  get total(): number {
    return this.all.length
  }

  get shownCount(): number {
    return this.shown.length
  }

  /** Clusters and single points inside `bbox` at `zoom` (fractional zooms are floored). */
  query(bbox: BBox, zoom: number): ClusterView {
    const clusters: MapCluster[] = []
    const points: ViewPoint[] = []
    const [west, south, east, north] = bbox
    // supercluster wants longitudes within ±180; a box wider than the world is the world.
    const box: BBox = east - west >= 360 ? [-180, south, 180, north] : [west, south, east, north]
    if (this.shown.length <= this.clusterAbove) {
      // Few enough to draw them all, wherever the view is (a point just outside it stays drawn while panning).
      for (const point of this.shown) points.push({ ...point, overdue: isOverdue(point, this.now) })
      return { clusters, points }
    }
    for (const feature of this.index.getClusters(box, Math.floor(zoom))) {
      const [lng, lat] = feature.geometry.coordinates as [number, number]
      const props = feature.properties as Partial<ClusterProperties> & ClusterProps & Partial<PointProps>
      if (props.cluster) {
        clusters.push({
          id: props.cluster_id ?? 0,
          lng,
          lat,
          count: props.point_count ?? 0,
          open: props.open,
          overdue: props.overdue,
        })
      } else if (props.i !== undefined) {
        const point = this.shown[props.i]
        if (point) points.push({ ...point, overdue: isOverdue(point, this.now) })
      }
    }
    return { clusters, points }
  }

  /** The zoom at which a cluster falls apart (what a click on its bubble zooms to). */
  expansionZoom(clusterId: number): number {
    try {
      return this.index.getClusterExpansionZoom(clusterId)
    } catch {
      return CLUSTER_MAX_ZOOM + 1
    }
  }

  /** Every loaded point per kind, whatever the filter. */
  countByKind(): Record<string, number> {
    const counts: Record<string, number> = {}
    for (const point of this.all) counts[point.kind] = (counts[point.kind] ?? 0) + 1
    return counts
  }

  /** Open incidents per grid over every loaded point (for shading the grid polygons). */
  openByGrid(): Record<string, number> {
    const counts: Record<string, number> = {}
    for (const point of this.all)
      if (isOpenIncident(point)) counts[point.grid] = (counts[point.grid] ?? 0) + 1
    return counts
  }

  /** [lat, lng, intensity] of the shown incidents, for the heat layer (urgent ones weigh more). */
  heat(): [number, number, number][] {
    const result: [number, number, number][] = []
    for (const point of this.shown) {
      if (point.kind === 'incident') result.push([point.lat, point.lng, point.urgency === 'urgent' ? 1 : 0.5])
    }
    return result
  }
}
