/**
 * The imperative Leaflet map behind MapView and the admin grid map. Only lazily loaded routes (map, admin) import
 * this file, so Leaflet stays out of the main chunk.
 *
 * Invariants:
 * - The map works with no basemap at all: an empty URL, or tiles that fail to load, leave grid polygons and points
 *   on the container's plain light background (no network in tests; patchy network in the hills).
 * - Coordinates are WGS-84 as stored. With `convertForBasemap`, everything drawn goes through the basemap's projector
 *   (GCJ-02 for 高德, see src/map/basemaps.ts) and viewports are converted back before they are queried; data never
 *   changes. Without it (the default, for maps that read clicks as coordinates) points are drawn as stored.
 * - Clusters and their points (setClusters) live in their own layer, redrawn from each viewport query; the record
 *   layers of setPoints stay for small maps.
 * - Popups and tooltips are DOM nodes filled with textContent: record and area names are never parsed as HTML.
 * - Styles go through Leaflet's options and the CSSOM (element.style), never style attributes: the server's CSP
 *   has no 'unsafe-inline'.
 */
import { onBeforeUnmount, onMounted, ref, shallowRef, watch } from 'vue'
import type { Ref } from 'vue'
import * as L from 'leaflet'
import 'leaflet/dist/leaflet.css'
import type { Point, RecordKind } from '#shared/schemas/records.ts'
import { RECORD_KINDS } from '#shared/schemas/records.ts'
import { EDIT_COLOR, GRID_COLOR, KIND_COLORS } from '../components/map/mapStyle.ts'
import { displayProjector, resolveBasemap, storageProjector } from '../map/basemaps.ts'
import type { BasemapCrs, ResolvedBasemap } from '../map/basemaps.ts'
import type { BBox, MapCluster, ViewPoint } from '../map/clusterEngine.ts'
import { shadeFor } from '../map/gridShading.ts'

export interface MapGrid {
  id: string
  name: string
  /** GeoJSON Polygon (positions are [lng, lat]). */
  geometry: { type: 'Polygon'; coordinates: number[][][] } | null
}

export interface MapPoint {
  id: string
  kind: RecordKind
  location: Point
}

/** A patrol track: [lng, lat] positions, WGS-84, in the order walked. */
export interface MapTrack {
  id: string
  positions: readonly (readonly [number, number])[]
}

export interface Basemap {
  url: string
  attribution: string
}

export interface LeafletMapOptions {
  basemap: Ref<Basemap | null>
  /** The popup of a point, built on demand (see buildRecordPopup). */
  popup?: (point: MapPoint) => HTMLElement
  /** Draw through the basemap's projection (GCJ-02 on 高德). Only for maps that never read clicks as positions. */
  convertForBasemap?: boolean
  /** A cluster bubble was clicked (the caller zooms in, see zoomTo). */
  onClusterClick?: (cluster: MapCluster) => void
  /** The accessible name of a cluster bubble (e.g. 「12 个点位，点击放大」); the count alone by default. */
  clusterTitle?: (cluster: MapCluster) => string
  /** The view settled after a pan or zoom (and once after mounting). */
  onViewportChange?: (viewport: MapViewport) => void
}

export interface MapViewport {
  /** WGS-84 [west, south, east, north], padded a little so points at the edge are drawn. */
  bbox: BBox
  zoom: number
}

/** What setClusters draws: cluster bubbles and single points (from ClusterEngine.query). */
export interface MapClusterView {
  clusters: readonly MapCluster[]
  points: readonly ViewPoint[]
}

/** After this many failed tiles with none loaded, the basemap is dropped for the plain background. */
const MAX_TILE_ERRORS = 4
const FALLBACK_VIEW: [number, number] = [35, 105]

export function useLeafletMap(container: Ref<HTMLElement | null>, options: LeafletMapOptions) {
  const map = shallowRef<L.Map | null>(null)
  const basemapFailed = ref(false)
  /** The configured basemap as resolved (provider, projection, why it is not used). */
  const basemapInfo = shallowRef<ResolvedBasemap | null>(null)
  const zoom = ref<number | null>(null)
  const clusterLayer = L.featureGroup()
  /** What setClusters has drawn, by a key of everything the drawing depends on. */
  const drawn = new Map<string, L.Layer>()
  const overlayLayer = L.featureGroup()
  let overlayTiles: L.TileLayer | null = null
  let heatLayer: L.Layer | null = null
  let crs: BasemapCrs = 'wgs84'
  let project = displayProjector('wgs84')
  let unproject = storageProjector('wgs84')
  const gridPolygons = new Map<string, L.Polygon>()
  let lastGrids: readonly MapGrid[] = []
  let lastHighlight: MapGrid['geometry'] = null
  let lastPoints: readonly MapPoint[] = []
  let lastTracks: readonly MapTrack[] = []
  let lastClusters: MapClusterView | null = null
  let lastGridCounts: Record<string, number> | null = null
  let lastHeat: readonly (readonly [number, number, number])[] | null = null
  const gridLayer = L.featureGroup()
  const highlightLayer = L.featureGroup()
  const trackLayer = L.featureGroup()
  const kindLayers = Object.fromEntries(RECORD_KINDS.map((kind) => [kind, L.featureGroup()])) as Record<
    RecordKind,
    L.FeatureGroup
  >
  let tileLayer: L.TileLayer | null = null
  let fitted = false

  /** A stored WGS-84 position where it is drawn on the current basemap. */
  function at(lng: number, lat: number): L.LatLng {
    const [x, y] = project(lng, lat)
    return L.latLng(y, x)
  }

  /** A drawn position back to WGS-84 (for maps that read clicks, after opting in to convertForBasemap). */
  function toStorage(latLng: L.LatLng): { lng: number; lat: number } {
    const [lng, lat] = unproject(latLng.lng, latLng.lat)
    return { lng, lat }
  }

  function setProjection(next: BasemapCrs) {
    const effective = options.convertForBasemap ? next : 'wgs84'
    if (effective === crs) return
    crs = effective
    project = displayProjector(crs)
    unproject = storageProjector(crs)
    // Redraw everything from what the caller gave, now in the new projection.
    setGrids(lastGrids)
    setHighlight(lastHighlight)
    setPoints(lastPoints)
    setTracks(lastTracks)
    if (lastClusters) setClusters(lastClusters, true)
    if (lastGridCounts) setGridCounts(lastGridCounts)
    if (lastHeat) void setHeat(lastHeat)
    emitViewport()
  }

  function setBasemap(basemap: Basemap | null) {
    const m = map.value
    if (!m) return
    if (tileLayer) {
      m.removeLayer(tileLayer)
      tileLayer = null
    }
    if (overlayTiles) {
      overlayLayer.removeLayer(overlayTiles)
      overlayTiles = null
    }
    basemapFailed.value = false
    const resolved = basemap
      ? resolveBasemap({ basemapUrl: basemap.url, basemapAttribution: basemap.attribution })
      : null
    basemapInfo.value = resolved
    setProjection(resolved?.crs ?? 'wgs84')
    if (!resolved?.url) return
    let loaded = 0
    let failed = 0
    // 天地图 and 高德 tiles are shown (and cached by the service worker) without asking for CORS, which they may not
    // grant; other servers keep the CORS request they always had.
    const crossOrigin = resolved.provider === 'osm' || resolved.provider === 'custom'
    const layer = L.tileLayer(resolved.url, {
      attribution: resolved.attribution,
      subdomains: resolved.subdomains,
      maxZoom: 19,
      crossOrigin,
    })
    if (resolved.overlayUrl) {
      overlayTiles = L.tileLayer(resolved.overlayUrl, {
        subdomains: resolved.subdomains,
        maxZoom: 19,
        // Labels above the basemap, whichever was added first.
        zIndex: 2,
        crossOrigin,
      }).addTo(overlayLayer)
    }
    layer.on('tileload', () => loaded++)
    layer.on('tileerror', () => {
      failed++
      if (loaded === 0 && failed >= MAX_TILE_ERRORS && tileLayer === layer) {
        m.removeLayer(layer)
        tileLayer = null
        if (overlayTiles) overlayLayer.removeLayer(overlayTiles)
        overlayTiles = null
        basemapFailed.value = true
      }
    })
    tileLayer = layer.addTo(m)
  }

  function label(text: string): HTMLElement {
    const span = document.createElement('span')
    span.textContent = text
    return span
  }

  function setGrids(grids: readonly MapGrid[]) {
    lastGrids = grids
    gridLayer.clearLayers()
    gridPolygons.clear()
    for (const grid of grids) {
      if (!grid.geometry) continue
      const rings = grid.geometry.coordinates.map((ring) => ring.map(([lng, lat]) => at(lng ?? 0, lat ?? 0)))
      const polygon = L.polygon(rings, {
        className: `gp-grid gp-grid-${grid.id}`,
        color: GRID_COLOR,
        weight: 2,
        fillColor: GRID_COLOR,
        fillOpacity: 0.08,
      })
        .bindTooltip(label(grid.name), { sticky: true, direction: 'top', className: 'gp-grid-label' })
        .addTo(gridLayer)
      gridPolygons.set(grid.id, polygon)
    }
    if (lastGridCounts) setGridCounts(lastGridCounts)
    if (!fitted && gridLayer.getLayers().length > 0) fitView()
  }

  /** Draw one polygon over the grids (the grid being edited) and bring it into view; null removes it. */
  function setHighlight(geometry: MapGrid['geometry']) {
    lastHighlight = geometry
    highlightLayer.clearLayers()
    if (!geometry) return
    const rings = geometry.coordinates.map((ring) => ring.map(([lng, lat]) => at(lng ?? 0, lat ?? 0)))
    L.polygon(rings, {
      className: 'gp-grid-edited',
      color: EDIT_COLOR,
      weight: 3,
      dashArray: '6 4',
      fillColor: EDIT_COLOR,
      fillOpacity: 0.2,
    }).addTo(highlightLayer)
    const m = map.value
    const bounds = highlightLayer.getBounds()
    if (m && bounds.isValid()) {
      m.fitBounds(bounds.pad(0.5), { maxZoom: 17 })
      fitted = true
    }
  }

  function setPoints(points: readonly MapPoint[]) {
    lastPoints = points
    for (const layer of Object.values(kindLayers)) layer.clearLayers()
    for (const point of points) {
      L.circleMarker(at(point.location.lng, point.location.lat), {
        className: `gp-marker gp-marker-${point.kind} gp-id-${point.id}`,
        radius: 8,
        color: '#ffffff',
        weight: 2,
        fillColor: KIND_COLORS[point.kind],
        fillOpacity: 0.9,
      })
        .bindPopup(() => options.popup?.(point) ?? label(point.id), { minWidth: 200, maxWidth: 280 })
        .addTo(kindLayers[point.kind])
    }
    if (!fitted && gridLayer.getLayers().length === 0 && points.length > 0) fitView()
  }

  /** Draw the patrol tracks (巡查轨迹) as lines. */
  function setTracks(tracks: readonly MapTrack[]) {
    lastTracks = tracks
    trackLayer.clearLayers()
    for (const track of tracks) {
      if (track.positions.length === 0) continue
      const latLngs = track.positions.map(([lng, lat]) => at(lng, lat))
      const line =
        latLngs.length > 1
          ? L.polyline(latLngs, { color: KIND_COLORS.track, weight: 4, opacity: 0.8, className: 'gp-track' })
          : L.circleMarker(latLngs[0]!, { radius: 4, color: KIND_COLORS.track, className: 'gp-track' })
      line.addTo(trackLayer)
    }
  }

  function setTracksVisible(visible: boolean) {
    const m = map.value
    if (!m) return
    if (visible && !m.hasLayer(trackLayer)) trackLayer.addTo(m)
    if (!visible && m.hasLayer(trackLayer)) m.removeLayer(trackLayer)
  }

  function setKindVisible(kind: RecordKind, visible: boolean) {
    const m = map.value
    if (!m) return
    const layer = kindLayers[kind]
    if (visible && !m.hasLayer(layer)) layer.addTo(m)
    if (!visible && m.hasLayer(layer)) m.removeLayer(layer)
  }

  function clusterIcon(cluster: MapCluster): L.DivIcon {
    const size = cluster.count < 10 ? 34 : cluster.count < 100 ? 40 : cluster.count < 1000 ? 48 : 56
    const bubble = document.createElement('div')
    bubble.className = 'gp-cluster-count'
    bubble.textContent =
      cluster.count >= 10_000 ? `${Math.round(cluster.count / 1000)}k` : String(cluster.count)
    const tone =
      cluster.overdue > 0 ? 'gp-cluster-overdue' : cluster.open > 0 ? 'gp-cluster-open' : 'gp-cluster-calm'
    return L.divIcon({
      html: bubble,
      className: `gp-cluster ${tone}`,
      iconSize: [size, size],
    })
  }

  /**
   * Draw one viewport's clusters (count bubbles; a click calls onClusterClick) and single points (as setPoints
   * draws them, plus `gp-overdue`). Replaces what the previous call drew; `redraw` starts afresh (new projection).
   */
  function setClusters(view: MapClusterView, redraw = false) {
    lastClusters = view
    if (redraw) {
      clusterLayer.clearLayers()
      drawn.clear()
    }
    // Keep what is drawn already (an open popup survives the pan it causes); add and remove only the difference.
    const wanted = new Set<string>()
    for (const cluster of view.clusters) {
      const key = `c|${cluster.id}|${cluster.count}|${cluster.open}|${cluster.overdue}|${cluster.lng}|${cluster.lat}`
      wanted.add(key)
      if (drawn.has(key)) continue
      const marker = L.marker(at(cluster.lng, cluster.lat), {
        icon: clusterIcon(cluster),
        keyboard: true,
        title: options.clusterTitle?.(cluster) ?? String(cluster.count),
      })
      marker.on('click', () => options.onClusterClick?.(cluster))
      marker.addTo(clusterLayer)
      marker.getElement()?.setAttribute('data-cluster-count', String(cluster.count))
      drawn.set(key, marker)
    }
    for (const point of view.points) {
      const key = `p|${point.id}|${point.kind}|${point.overdue}|${point.lng}|${point.lat}`
      wanted.add(key)
      if (drawn.has(key)) continue
      const mapPoint: MapPoint = {
        id: point.id,
        kind: point.kind,
        location: { lat: point.lat, lng: point.lng },
      }
      const marker = L.circleMarker(at(point.lng, point.lat), {
        className: `gp-marker gp-marker-${point.kind} gp-id-${point.id}${point.overdue ? ' gp-overdue' : ''}`,
        radius: point.overdue ? 9 : 8,
        color: point.overdue ? '#a8071a' : '#ffffff',
        weight: point.overdue ? 3 : 2,
        fillColor: KIND_COLORS[point.kind],
        fillOpacity: 0.9,
      })
        .bindPopup(() => options.popup?.(mapPoint) ?? label(point.id), { minWidth: 200, maxWidth: 280 })
        .addTo(clusterLayer)
      drawn.set(key, marker)
    }
    for (const [key, layer] of drawn) {
      if (wanted.has(key)) continue
      clusterLayer.removeLayer(layer)
      drawn.delete(key)
    }
    if (!fitted && gridLayer.getLayers().length === 0 && clusterLayer.getLayers().length > 0) fitView()
  }

  /** Shade the grid polygons by their open incidents (gridId → count; grids not named count 0). */
  function setGridCounts(counts: Record<string, number>) {
    lastGridCounts = counts
    for (const [id, polygon] of gridPolygons) {
      const count = counts[id] ?? 0
      const shade = shadeFor(count)
      polygon.setStyle({ fillColor: shade.color, fillOpacity: shade.fillOpacity })
      polygon.getElement()?.setAttribute('data-open-incidents', String(count))
    }
  }

  /**
   * A heat layer of [lat, lng, intensity] (WGS-84), or null to remove it. leaflet.heat is loaded on first use and
   * attaches itself to the global L; where it cannot draw (no canvas), the map simply goes without.
   */
  async function setHeat(points: readonly (readonly [number, number, number])[] | null) {
    lastHeat = points
    const m = map.value
    if (heatLayer) {
      m?.removeLayer(heatLayer)
      heatLayer = null
    }
    if (!points || !m) return
    try {
      await import('leaflet.heat')
      const global = (globalThis as { L?: typeof L }).L
      if (!global?.heatLayer || map.value !== m || lastHeat !== points) return
      const drawn = points.map(([lat, lng, weight]): L.HeatLatLngTuple => {
        const position = at(lng, lat)
        return [position.lat, position.lng, weight]
      })
      heatLayer = global.heatLayer(drawn, { radius: 22, blur: 18, maxZoom: 16, minOpacity: 0.3 }).addTo(m)
    } catch (error) {
      console.warn('heat layer unavailable', error)
      heatLayer = null
    }
  }

  /** The current view as a WGS-84 box (padded by 10%) and zoom, or null before the map exists. */
  function viewport(): MapViewport | null {
    const m = map.value
    if (!m) return null
    const bounds = m.getBounds().pad(0.1)
    const sw = toStorage(bounds.getSouthWest())
    const ne = toStorage(bounds.getNorthEast())
    return { bbox: [sw.lng, sw.lat, ne.lng, ne.lat], zoom: m.getZoom() }
  }

  function emitViewport() {
    const view = viewport()
    if (!view) return
    zoom.value = view.zoom
    options.onViewportChange?.(view)
  }

  /** Centre on a stored position at a zoom (a cluster's expansion zoom). */
  function zoomTo(lng: number, lat: number, level: number) {
    map.value?.setView(at(lng, lat), level)
  }

  /** Fit the view to the grids, else to the points, else show the whole country. */
  function fitView() {
    const m = map.value
    if (!m) return
    m.invalidateSize()
    let bounds = highlightLayer.getBounds()
    if (!bounds.isValid()) bounds = gridLayer.getBounds()
    if (!bounds.isValid()) {
      bounds = L.latLngBounds([])
      for (const layer of [...Object.values(kindLayers), clusterLayer]) {
        if (m.hasLayer(layer) && layer.getLayers().length > 0) bounds.extend(layer.getBounds())
      }
    }
    if (bounds.isValid()) {
      m.fitBounds(bounds, { padding: [16, 16], maxZoom: 17 })
      fitted = true
    } else m.setView(FALLBACK_VIEW, 4)
  }

  onMounted(() => {
    if (!container.value) return
    // Half-zoom steps let the grids fill a narrow phone screen instead of half of it.
    const m = L.map(container.value, { zoomSnap: 0.5, zoomControl: true, attributionControl: true })
    m.setView(FALLBACK_VIEW, 4)
    overlayLayer.addTo(m)
    gridLayer.addTo(m)
    highlightLayer.addTo(m)
    clusterLayer.addTo(m)
    trackLayer.addTo(m)
    for (const layer of Object.values(kindLayers)) layer.addTo(m)
    map.value = m
    m.on('moveend', emitViewport)
    setBasemap(options.basemap.value)
    // The container gets its final size after layout: measure again before the first fit.
    requestAnimationFrame(() => {
      if (map.value !== m) return
      m.invalidateSize()
      fitView()
      emitViewport()
    })
  })

  watch(options.basemap, (basemap, previous) => {
    if (basemap?.url !== previous?.url) setBasemap(basemap)
  })

  onBeforeUnmount(() => {
    map.value?.remove()
    map.value = null
  })

  return {
    map,
    basemapFailed,
    basemapInfo,
    /** The map's zoom after the last pan or zoom (null before mounting). */
    zoom,
    setGrids,
    setHighlight,
    setPoints,
    setTracks,
    setTracksVisible,
    setKindVisible,
    fitView,
    setClusters,
    setGridCounts,
    setHeat,
    viewport,
    zoomTo,
    toStorage,
  }
}
