/**
 * Which basemap the configured tile URL is, and how to draw WGS-84 data on it. The config keeps its one URL
 * (BASEMAP_URL); the provider is told by its host:
 * - OpenStreetMap or any other XYZ server: WGS-84 (Web Mercator), drawn as stored.
 * - 天地图 (tianditu.gov.cn): CGCS2000 ≈ WGS-84, drawn as stored; it needs a key (`tk=`), and without one there is
 *   no basemap rather than a grid of refused tiles. Its vector/imagery layers get their label layer on top.
 * - 高德 (autonavi.com / amap.com): GCJ-02. Everything drawn is converted at display time with gcoord; stored and
 *   queried coordinates stay WGS-84 (a viewport is converted back before it is queried).
 */
import gcoord from 'gcoord'

export type BasemapProvider = 'none' | 'osm' | 'tianditu' | 'amap' | 'custom'
export type BasemapCrs = 'wgs84' | 'gcj02'

export interface ResolvedBasemap {
  provider: BasemapProvider
  url: string
  attribution: string
  crs: BasemapCrs
  subdomains: string
  /** A label layer drawn over the basemap (天地图's 注记), or null. */
  overlayUrl: string | null
  /** Why a configured URL is not used (a 天地图 URL without its key), else null. */
  problem: 'tiandituNoKey' | null
}

export interface BasemapConfig {
  basemapUrl: string
  basemapAttribution: string
}

function hostOf(url: string): string {
  return /^(?:https?:)?\/\/([^/?#]+)/i.exec(url)?.[1]?.toLowerCase() ?? ''
}

export function resolveBasemap(config: BasemapConfig): ResolvedBasemap {
  const url = config.basemapUrl.trim()
  const base = { url, attribution: config.basemapAttribution, overlayUrl: null, problem: null }
  if (url === '') return { ...base, provider: 'none', crs: 'wgs84', subdomains: 'abc' }
  const host = hostOf(url)
  if (host.endsWith('tianditu.gov.cn') || host.endsWith('tianditu.com')) {
    const key = /[?&]tk=([^&#]*)/.exec(url)?.[1] ?? ''
    if (key === '' || key.includes('{')) {
      return {
        ...base,
        url: '',
        provider: 'none',
        crs: 'wgs84',
        subdomains: '01234567',
        problem: 'tiandituNoKey',
      }
    }
    const overlayUrl = /vec_w|img_w|ter_w/.test(url)
      ? url
          .replace(/vec_w/g, 'cva_w')
          .replace(/img_w/g, 'cia_w')
          .replace(/ter_w/g, 'cta_w')
          .replace(
            /LAYER=(vec|img|ter)\b/gi,
            (_m, layer: string) =>
              `LAYER=${{ vec: 'cva', img: 'cia', ter: 'cta' }[layer.toLowerCase()] ?? layer}`,
          )
      : null
    return { ...base, provider: 'tianditu', crs: 'wgs84', subdomains: '01234567', overlayUrl }
  }
  if (host.endsWith('autonavi.com') || host.endsWith('amap.com')) {
    return { ...base, provider: 'amap', crs: 'gcj02', subdomains: '1234' }
  }
  if (host.endsWith('openstreetmap.org')) return { ...base, provider: 'osm', crs: 'wgs84', subdomains: 'abc' }
  return { ...base, provider: 'custom', crs: 'wgs84', subdomains: 'abc' }
}

/** [lng, lat] → where to draw it on a basemap of `crs`. */
export type Projector = (lng: number, lat: number) => [number, number]

export function displayProjector(crs: BasemapCrs): Projector {
  if (crs === 'wgs84') return (lng, lat) => [lng, lat]
  return (lng, lat) => gcoord.transform([lng, lat] as [number, number], gcoord.WGS84, gcoord.GCJ02)
}

/** The inverse of displayProjector: a drawn position back to WGS-84 (for querying a viewport). */
export function storageProjector(crs: BasemapCrs): Projector {
  if (crs === 'wgs84') return (lng, lat) => [lng, lat]
  return (lng, lat) => gcoord.transform([lng, lat] as [number, number], gcoord.GCJ02, gcoord.WGS84)
}
