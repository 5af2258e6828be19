/**
 * The imperative Leaflet map behind MapView and the admin grid map. Only lazily loaded routes (map, admin) import
 * this file, so Leaflet stays out of the main chunk.
 *
 * Invariants:
 * - The map works with no basemap at all: an empty URL, or tiles that fail to load, leave grid polygons and points
 *   on the container's plain light background (no network in tests; patchy network in the hills).
 * - Coordinates are WGS-84 as stored; a GCJ-02/BD-09 basemap would need display-time conversion here, never in data.
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
}

/** After this many failed tiles with none loaded, the basemap is dropped for the plain background. */
const MAX_TILE_ERRORS = 4
const FALLBACK_VIEW: [number, number] = [35, 105]

export function useLeafletMap(container: Ref<HTMLElement | null>, options: LeafletMapOptions) {
  const map = shallowRef<L.Map | null>(null)
  const basemapFailed = ref(false)
  const gridLayer = L.featureGroup()
  const highlightLayer = L.featureGroup()
  const trackLayer = L.featureGroup()
  const kindLayers = Object.fromEntries(RECORD_KINDS.map((kind) => [kind, L.featureGroup()])) as Record<
    RecordKind,
    L.FeatureGroup
  >
  let tileLayer: L.TileLayer | null = null
  let fitted = false

  function setBasemap(basemap: Basemap | null) {
    const m = map.value
    if (!m) return
    if (tileLayer) {
      m.removeLayer(tileLayer)
      tileLayer = null
    }
    basemapFailed.value = false
    if (!basemap?.url) return
    let loaded = 0
    let failed = 0
    const layer = L.tileLayer(basemap.url, {
      attribution: basemap.attribution,
      maxZoom: 19,
      crossOrigin: true,
    })
    layer.on('tileload', () => loaded++)
    layer.on('tileerror', () => {
      failed++
      if (loaded === 0 && failed >= MAX_TILE_ERRORS && tileLayer === layer) {
        m.removeLayer(layer)
        tileLayer = null
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
    gridLayer.clearLayers()
    for (const grid of grids) {
      if (!grid.geometry) continue
      const rings = grid.geometry.coordinates.map((ring) =>
        ring.map(([lng, lat]) => L.latLng(lat ?? 0, lng ?? 0)),
      )
      L.polygon(rings, {
        className: `gp-grid gp-grid-${grid.id}`,
        color: GRID_COLOR,
        weight: 2,
        fillColor: GRID_COLOR,
        fillOpacity: 0.08,
      })
        .bindTooltip(label(grid.name), { sticky: true, direction: 'top', className: 'gp-grid-label' })
        .addTo(gridLayer)
    }
    if (!fitted && gridLayer.getLayers().length > 0) fitView()
  }

  /** Draw one polygon over the grids (the grid being edited) and bring it into view; null removes it. */
  function setHighlight(geometry: MapGrid['geometry']) {
    highlightLayer.clearLayers()
    if (!geometry) return
    const rings = geometry.coordinates.map((ring) => ring.map(([lng, lat]) => L.latLng(lat ?? 0, lng ?? 0)))
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
    for (const layer of Object.values(kindLayers)) layer.clearLayers()
    for (const point of points) {
      L.circleMarker([point.location.lat, point.location.lng], {
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
    trackLayer.clearLayers()
    for (const track of tracks) {
      if (track.positions.length === 0) continue
      const latLngs = track.positions.map(([lng, lat]) => L.latLng(lat, lng))
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

  /** Fit the view to the grids, else to the points, else show the whole country. */
  function fitView() {
    const m = map.value
    if (!m) return
    m.invalidateSize()
    let bounds = highlightLayer.getBounds()
    if (!bounds.isValid()) bounds = gridLayer.getBounds()
    if (!bounds.isValid()) {
      bounds = L.latLngBounds([])
      for (const layer of Object.values(kindLayers)) if (m.hasLayer(layer)) bounds.extend(layer.getBounds())
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
    gridLayer.addTo(m)
    highlightLayer.addTo(m)
    trackLayer.addTo(m)
    for (const layer of Object.values(kindLayers)) layer.addTo(m)
    map.value = m
    setBasemap(options.basemap.value)
    // The container gets its final size after layout: measure again before the first fit.
    requestAnimationFrame(() => {
      if (map.value !== m) return
      m.invalidateSize()
      fitView()
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
    setGrids,
    setHighlight,
    setPoints,
    setTracks,
    setTracksVisible,
    setKindVisible,
    fitView,
  }
}
