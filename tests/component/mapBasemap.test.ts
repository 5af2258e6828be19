import { enableAutoUnmount, mount } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { defineComponent, h, ref, type Ref } from 'vue'
import * as L from 'leaflet'
import gcoord from 'gcoord'
import { useLeafletMap, type Basemap } from '../../src/composables/useLeafletMap.ts'

enableAutoUnmount(afterEach)

const sizes = { clientWidth: 360, clientHeight: 640 }
const saved = new Map<string, PropertyDescriptor | undefined>()
beforeAll(() => {
  for (const [name, value] of Object.entries(sizes)) {
    saved.set(name, Object.getOwnPropertyDescriptor(HTMLElement.prototype, name))
    Object.defineProperty(HTMLElement.prototype, name, { configurable: true, get: () => value })
  }
})
afterAll(() => {
  for (const [name, descriptor] of saved) {
    if (descriptor) Object.defineProperty(HTMLElement.prototype, name, descriptor)
  }
})
afterEach(() => {
  document.body.innerHTML = ''
})

const AMAP = 'https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&style=8&x={x}&y={y}&z={z}'
const OSM = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png'
const TIANDITU = 'https://t{s}.tianditu.gov.cn/vec_w/wmts?LAYER=vec&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}'
const POINT = { lng: 119.6, lat: 30.6 }

function mountMap(basemap: Ref<Basemap | null>, convertForBasemap: boolean) {
  let api: ReturnType<typeof useLeafletMap> | null = null
  const Host = defineComponent({
    setup() {
      const container = ref<HTMLElement | null>(null)
      api = useLeafletMap(container, { basemap, convertForBasemap })
      return () => h('div', { ref: container })
    },
  })
  mount(Host, { attachTo: document.body })
  return () => api!
}

/** Where the one drawn point marker sits on the map. */
function drawnPoint(map: L.Map): L.LatLng | null {
  let found: L.LatLng | null = null
  map.eachLayer((layer) => {
    if (layer instanceof L.CircleMarker) found = layer.getLatLng()
  })
  return found
}

function tileUrls(map: L.Map): string[] {
  const urls: string[] = []
  map.eachLayer((layer) => {
    if (layer instanceof L.TileLayer) urls.push((layer as unknown as { _url: string })._url)
  })
  return urls
}

const view = {
  clusters: [],
  points: [
    {
      kind: 'household' as const,
      id: 'h1',
      grid: 'g',
      status: null,
      category: null,
      urgency: null,
      deadlineAt: null,
      at: 0,
      overdue: false,
      ...POINT,
    },
  ],
}

describe('basemaps on the leader map', () => {
  it('draws on 高德 tiles in GCJ-02 and reads positions back as WGS-84, the data unchanged', async () => {
    const basemap = ref<Basemap | null>({ url: OSM, attribution: '©' })
    const api = mountMap(basemap, true)
    await vi.waitFor(() => expect(api().map.value).not.toBeNull())
    const map = api().map.value!
    api().setClusters(view)
    expect(drawnPoint(map)).toMatchObject({ lng: POINT.lng, lat: POINT.lat })

    basemap.value = { url: AMAP, attribution: '© 高德' }
    await vi.waitFor(() => expect(api().basemapInfo.value?.provider).toBe('amap'))
    const [lng, lat] = gcoord.transform(
      [POINT.lng, POINT.lat] as [number, number],
      gcoord.WGS84,
      gcoord.GCJ02,
    )
    const drawn = drawnPoint(map)!
    expect(drawn.lng).toBeCloseTo(lng, 9)
    expect(drawn.lat).toBeCloseTo(lat, 9)
    expect(Math.abs(drawn.lng - POINT.lng)).toBeGreaterThan(0.001)
    expect(view.points[0]).toMatchObject(POINT)
    const back = api().toStorage(drawn)
    expect(back.lng).toBeCloseTo(POINT.lng, 6)
    expect(back.lat).toBeCloseTo(POINT.lat, 6)
    expect(tileUrls(map)).toEqual([AMAP])
  })

  it('leaves maps that read clicks as positions in WGS-84 unless they opt in', async () => {
    const api = mountMap(ref<Basemap | null>({ url: AMAP, attribution: '©' }), false)
    await vi.waitFor(() => expect(api().map.value).not.toBeNull())
    api().setClusters(view)
    expect(drawnPoint(api().map.value!)).toMatchObject({ lng: POINT.lng, lat: POINT.lat })
  })

  it('uses 天地图 with its key and label layer, and no basemap without a key', async () => {
    const basemap = ref<Basemap | null>({ url: TIANDITU, attribution: '© 天地图' })
    const api = mountMap(basemap, true)
    await vi.waitFor(() => expect(api().basemapInfo.value?.problem).toBe('tiandituNoKey'))
    expect(tileUrls(api().map.value!)).toEqual([])

    basemap.value = { url: `${TIANDITU}&tk=k1`, attribution: '© 天地图' }
    await vi.waitFor(() => expect(api().basemapInfo.value?.provider).toBe('tianditu'))
    expect(tileUrls(api().map.value!).sort()).toEqual(
      [
        `${TIANDITU}&tk=k1`,
        `${TIANDITU.replace('vec_w', 'cva_w').replace('LAYER=vec', 'LAYER=cva')}&tk=k1`,
      ].sort(),
    )
    api().setClusters(view)
    expect(drawnPoint(api().map.value!)).toMatchObject({ lng: POINT.lng, lat: POINT.lat })
  })
})
