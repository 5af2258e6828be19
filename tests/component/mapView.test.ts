import { enableAutoUnmount } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import MapView from '../../src/views/MapView.vue'
import type { LocalRecord } from '../../src/db/GridPatrolDb.ts'
import {
  GRID_A,
  GRID_B,
  LEADER,
  NOW,
  appRouter,
  drainVantTimers,
  mountWith,
  settle,
  setupEnv,
  type TestEnv,
} from './harness.ts'

enableAutoUnmount(afterEach)

// happy-dom lays nothing out: give every element a phone-sized box so Leaflet has a viewport to query.
const sizes = { clientWidth: 360, clientHeight: 640 }
const saved = new Map<string, PropertyDescriptor | undefined>()
beforeAll(() => {
  for (const [name, value] of Object.entries(sizes)) {
    saved.set(name, Object.getOwnPropertyDescriptor(HTMLElement.prototype, name))
    Object.defineProperty(HTMLElement.prototype, name, { configurable: true, get: () => value })
  }
})
afterAll(async () => {
  for (const [name, descriptor] of saved) {
    if (descriptor) Object.defineProperty(HTMLElement.prototype, name, descriptor)
  }
  await drainVantTimers()
})

let env: TestEnv
beforeEach(async () => {
  env = await setupEnv({ user: LEADER })
})
afterEach(async () => {
  document.body.innerHTML = ''
  await env.close()
})

function record(id: string, kind: 'household' | 'incident', gridId: string, fields: Record<string, unknown>) {
  const row: LocalRecord = {
    id,
    kind,
    fields: { gridId, ...fields },
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
  return row
}

/** `n` records in the two test grids: every fourth an incident, half of them in each grid (safety hazards in A). */
function seed(n: number): LocalRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const gridId = i % 8 < 4 ? GRID_A : GRID_B
    const location = { lng: 119.6 + (i % 40) * 0.0005, lat: 30.6 + Math.floor(i / 40) * 0.0002 }
    const id = `0190a000-0000-7000-8000-${String(i).padStart(12, '0')}`
    if (i % 4 === 0) {
      return record(id, 'incident', gridId, {
        location,
        category: i % 8 === 0 ? 'safety' : 'dispute',
        urgency: 'normal',
        status: 'reported',
        description: `事件 ${i}`,
        reportedAt: NOW - 1000,
      })
    }
    return record(id, 'household', gridId, {
      location,
      address: `横山村${i}号`,
      housing: 'owned',
      headName: '户主',
    })
  })
}

const clusterCounts = (root: ParentNode) =>
  [...root.querySelectorAll('.gp-cluster')].map((el) => Number(el.getAttribute('data-cluster-count')))
const drawnTotal = (root: ParentNode) =>
  clusterCounts(root).reduce((sum, n) => sum + n, 0) + root.querySelectorAll('.gp-marker').length

describe('the leader map', () => {
  it('draws 2,000 points as cluster bubbles, filters them and zooms into a clicked cluster', async () => {
    await env.db.records.bulkPut(seed(2000))
    const router = await appRouter('/map')
    const { wrapper } = mountWith(MapView, env, { router })
    const root = wrapper.element as HTMLElement

    // Every point is in a bubble or drawn on its own, and far fewer than 2,000 things are in the DOM.
    await vi.waitFor(() => expect(drawnTotal(root)).toBe(2000), { timeout: 15_000 })
    expect(root.querySelectorAll('.gp-cluster').length).toBeGreaterThan(0)
    expect(
      root.querySelectorAll('.gp-cluster').length + root.querySelectorAll('.gp-marker').length,
    ).toBeLessThan(200)
    expect(wrapper.get('[data-testid="map-shown"]').attributes('data-shown')).toBe('2000')
    // The grids are shaded by their open incidents (250 reported incidents in each).
    await vi.waitFor(() =>
      expect(root.querySelector(`path.gp-grid-${GRID_A}`)?.getAttribute('data-open-incidents')).toBe('250'),
    )

    // A filter (incident category: safety hazards) leaves the 250 safety incidents.
    await wrapper.get('[data-testid="map-filter-open"]').trigger('click')
    await vi.waitFor(() =>
      expect(wrapper.find('[data-testid="map-filter-category-safety"]').exists()).toBe(true),
    )
    await wrapper.get('[data-testid="map-filter-category-safety"]').trigger('click')
    await vi.waitFor(
      () => expect(wrapper.get('[data-testid="map-shown"]').attributes('data-shown')).toBe('250'),
      {
        timeout: 15_000,
      },
    )
    await vi.waitFor(() => expect(drawnTotal(root)).toBe(250), { timeout: 15_000 })
    // The grid shading still counts every open incident, whatever the filter.
    expect(root.querySelector(`path.gp-grid-${GRID_B}`)?.getAttribute('data-open-incidents')).toBe('250')

    // The kind toggle above the map filters too: without incidents nothing is left.
    await wrapper.get('[data-testid="layer-incident"]').trigger('click')
    await vi.waitFor(
      () => expect(wrapper.get('[data-testid="map-shown"]').attributes('data-shown')).toBe('0'),
      {
        timeout: 15_000,
      },
    )
    await wrapper.get('[data-testid="layer-incident"]').trigger('click')
    await vi.waitFor(() => expect(drawnTotal(root)).toBe(250), { timeout: 15_000 })

    // A click on a bubble zooms in to where it falls apart.
    const map = wrapper.get('[data-testid="map"]')
    const before = Number(map.attributes('data-zoom'))
    const bubble = root.querySelector('.gp-cluster') as HTMLElement
    bubble.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true }))
    await vi.waitFor(() => expect(Number(map.attributes('data-zoom'))).toBeGreaterThan(before), {
      timeout: 15_000,
    })
  })

  it('draws records that arrive while it is open (a sync pulling pages)', async () => {
    await env.db.records.bulkPut(seed(10))
    const { wrapper } = mountWith(MapView, env, { router: await appRouter('/map') })
    const root = wrapper.element as HTMLElement
    await vi.waitFor(() => expect(drawnTotal(root)).toBe(10), { timeout: 15_000 })
    await env.db.records.bulkPut(seed(30))
    await vi.waitFor(
      () => expect(wrapper.get('[data-testid="map-shown"]').attributes('data-shown')).toBe('30'),
      {
        timeout: 15_000,
      },
    )
    await vi.waitFor(() => expect(drawnTotal(root)).toBe(30), { timeout: 15_000 })
  })

  it('shows a hostile name in a popup as text, never as HTML', async () => {
    const hostile = '<img src=x onerror="window.__pwned=1">'
    await env.db.records.bulkPut([
      record('0190a000-0000-7000-8000-000000000001', 'household', GRID_A, {
        location: { lng: 119.605, lat: 30.605 },
        address: hostile,
        housing: 'owned',
        headName: '<b>户主</b>',
      }),
    ])
    const router = await appRouter('/map')
    const { wrapper } = mountWith(MapView, env, { router })
    const root = wrapper.element as HTMLElement
    await vi.waitFor(() => expect(root.querySelectorAll('.gp-marker')).toHaveLength(1), { timeout: 15_000 })
    const marker = root.querySelector('.gp-marker') as Element
    marker.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true }))
    await vi.waitFor(() => expect(root.querySelector('.gp-popup-title')?.textContent).toBe(hostile), {
      timeout: 15_000,
    })
    expect(root.querySelector('.leaflet-popup img')).toBeNull()
    expect(root.querySelector('.leaflet-popup b')).toBeNull()
    expect((window as { __pwned?: number }).__pwned).toBeUndefined()

    // The popup stays open through a zoom (each view change queries and redraws the points).
    const map = wrapper.get('[data-testid="map"]')
    const before = Number(map.attributes('data-zoom'))
    ;(root.querySelector('.leaflet-control-zoom-in') as HTMLElement).click()
    await vi.waitFor(() => expect(Number(map.attributes('data-zoom'))).toBeGreaterThan(before), {
      timeout: 15_000,
    })
    await settle()
    expect(root.querySelector('.gp-popup-title')?.textContent).toBe(hostile)
  })
})
