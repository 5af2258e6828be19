/**
 * Messages between the map and the clustering worker, and the one handler that answers them. The worker and the
 * in-page fallback run the same handler, so what a component test sees is what the worker does.
 */
import type { ClusterEngine } from './clusterEngine.ts'
import type { BBox, ClusterView } from './clusterEngine.ts'
import type { MapFilter } from './mapFilter.ts'
import type { MapRecordPoint } from './mapPoints.ts'

export type ClusterRequest =
  | { type: 'load'; points: MapRecordPoint[]; filter: MapFilter; now: number }
  | { type: 'filter'; filter: MapFilter; now: number }
  | { type: 'query'; bbox: BBox; zoom: number }
  | { type: 'expand'; clusterId: number }
  | { type: 'heat' }

/** What a load or a filter change answers: counts, and what the grid shading needs. */
export interface IndexSummary {
  total: number
  shown: number
  /** Every loaded point per kind, whatever the filter (the layer toggles' counts). */
  byKind: Record<string, number>
  openByGrid: Record<string, number>
}

export interface ClusterResponses {
  load: IndexSummary
  filter: IndexSummary
  query: ClusterView
  expand: number
  heat: [number, number, number][]
}

export type ClusterResponse<T extends ClusterRequest['type'] = ClusterRequest['type']> = ClusterResponses[T]

/** A request with its id, as posted to the worker; the answer carries the same id (or an error message). */
export type ClusterEnvelope = { id: number; request: ClusterRequest }
export type ClusterReply = { id: number; result: unknown } | { id: number; error: string }

function summary(engine: ClusterEngine): IndexSummary {
  return {
    total: engine.total,
    shown: engine.shownCount,
    byKind: engine.countByKind(),
    openByGrid: engine.openByGrid(),
  }
}

export function handleClusterRequest(engine: ClusterEngine, request: ClusterRequest): unknown {
  switch (request.type) {
    case 'load':
      engine.load(request.points, request.filter, request.now)
      return summary(engine)
    case 'filter':
      engine.setFilter(request.filter, request.now)
      return summary(engine)
    case 'query':
      return engine.query(request.bbox, request.zoom)
    case 'expand':
      return engine.expansionZoom(request.clusterId)
    case 'heat':
      return engine.heat()
  }
}

/** Answer one envelope (never throws: a failure becomes an error reply). */
export function replyTo(engine: ClusterEngine, envelope: ClusterEnvelope): ClusterReply {
  try {
    return { id: envelope.id, result: handleClusterRequest(engine, envelope.request) }
  } catch (error) {
    return { id: envelope.id, error: error instanceof Error ? error.message : String(error) }
  }
}
