import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { enableAutoUnmount, type VueWrapper } from '@vue/test-utils'
import * as L from 'leaflet'
import HouseholdForm from '../../src/components/household/HouseholdForm.vue'
import PlaceForm from '../../src/components/place/PlaceForm.vue'
import IncidentForm from '../../src/components/incident/IncidentForm.vue'
import LocationField from '../../src/components/form/LocationField.vue'
import MapPointPicker from '../../src/components/map/MapPointPicker.vue'
import { GRID_A, GRID_B, mountWith, settle, setupEnv, type TestEnv } from './harness.ts'
import { fill, gridsShown } from './formHelpers.ts'

// Unmount each test's components (their draft timers and stores) before the next test's Pinia is active.
enableAutoUnmount(afterEach)

let env: TestEnv
beforeEach(async () => {
  env = await setupEnv()
})
afterEach(async () => {
  document.body.innerHTML = ''
  // Drop the stubbed GPS (an own property shadowing happy-dom's getter).
  Reflect.deleteProperty(navigator, 'geolocation')
  await env.close()
})

// The harness's grids: A spans 119.60–119.61 E, B spans 119.61–119.62 E, both 30.60–30.61 N.
const IN_A = { lat: 30.605, lng: 119.605 }
const IN_B = { lat: 30.605, lng: 119.615 }
const OUTSIDE_WARNING_A = '该位置不在所选网格（横山村第一网格）内'

/** A phone whose GPS answers with `point` (accuracy 6 m). */
function stubGps(point: { lat: number; lng: number }) {
  const geolocation = {
    getCurrentPosition: (success: PositionCallback) =>
      success({
        coords: { latitude: point.lat, longitude: point.lng, accuracy: 6 },
        timestamp: 0,
      } as GeolocationPosition),
  }
  Object.defineProperty(navigator, 'geolocation', { configurable: true, value: geolocation })
}

/** The fields of the record the form saved (read back from the device's database). */
async function savedFields(wrapper: VueWrapper): Promise<Record<string, unknown>> {
  await vi.waitFor(() => expect(wrapper.emitted('saved')).toHaveLength(1), { timeout: 15_000 })
  const id = wrapper.emitted('saved')![0]![0] as string
  const record = await env.db.records.get(id)
  return record!.fields
}

const warning = (wrapper: VueWrapper) => wrapper.find('[data-testid="location-outside-grid"]')

describe('LocationField: outside-grid warning', () => {
  it('warns when the GPS point lies outside the chosen grid, clears when the grid matches, and still saves', async () => {
    stubGps(IN_B)
    const { wrapper } = mountWith(HouseholdForm, env)
    await gridsShown(wrapper)
    expect(warning(wrapper).exists()).toBe(false)

    await wrapper.get('[data-testid="field-location-get"]').trigger('click')
    await vi.waitFor(() => expect(warning(wrapper).exists()).toBe(true), { timeout: 15_000 })
    expect(warning(wrapper).text()).toBe(OUTSIDE_WARNING_A)
    expect(wrapper.get('[data-testid="location-accuracy"]').text()).toBe('精度约 6 米')

    await wrapper.get(`[data-testid="field-gridId-${GRID_B}"]`).trigger('click')
    await vi.waitFor(() => expect(warning(wrapper).exists()).toBe(false), { timeout: 15_000 })

    // Back in grid A: the warning returns, and it does not block saving.
    await wrapper.get(`[data-testid="field-gridId-${GRID_A}"]`).trigger('click')
    await vi.waitFor(() => expect(warning(wrapper).exists()).toBe(true), { timeout: 15_000 })
    await fill(wrapper, 'address', '递铺街道横山村12号')
    await fill(wrapper, 'headName', '王建国')
    await wrapper.get('[data-testid="field-housing-owned"]').trigger('click')
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    expect(await savedFields(wrapper)).toMatchObject({ gridId: GRID_A, location: { ...IN_B, accuracy: 6 } })
  })

  it('says nothing for a point inside the grid', async () => {
    stubGps(IN_A)
    const { wrapper } = mountWith(PlaceForm, env)
    await gridsShown(wrapper)
    await wrapper.get('[data-testid="field-location-get"]').trigger('click')
    await vi.waitFor(() => expect(wrapper.find('[data-testid="location-value"]').exists()).toBe(true), {
      timeout: 15_000,
    })
    await settle()
    expect(warning(wrapper).exists()).toBe(false)
  })

  it('gets the grid from every form that has a location', async () => {
    for (const form of [HouseholdForm, PlaceForm, IncidentForm]) {
      const { wrapper } = mountWith(form, env)
      await gridsShown(wrapper)
      await wrapper.get(`[data-testid="field-gridId-${GRID_B}"]`).trigger('click')
      await vi.waitFor(() => expect(wrapper.getComponent(LocationField).props('gridId')).toBe(GRID_B), {
        timeout: 15_000,
      })
      wrapper.unmount()
    }
  })
})

describe('LocationField: pick a point on the map', () => {
  async function openPicker(wrapper: VueWrapper) {
    await wrapper.get('[data-testid="field-location-pick"]').trigger('click')
    await vi.waitFor(
      () => {
        const picker = wrapper.findComponent(MapPointPicker)
        expect(picker.exists()).toBe(true)
        expect(picker.vm.map).toBeTruthy()
      },
      { timeout: 15_000 },
    )
    return wrapper.getComponent(MapPointPicker)
  }

  const pickerButton = (name: 'confirm' | 'cancel') =>
    document.body.querySelector<HTMLButtonElement>(`[data-testid="map-picker-${name}"]`)!

  it('sets the tapped point without accuracy, shows 地图选点, warns outside the grid and saves it', async () => {
    const { wrapper } = mountWith(PlaceForm, env)
    await gridsShown(wrapper)
    const picker = await openPicker(wrapper)
    // The grids are drawn even with no basemap configured.
    expect(document.body.querySelectorAll('.gp-grid').length).toBeGreaterThan(0)
    expect(pickerButton('confirm').disabled).toBe(true)

    picker.vm.map!.fire('click', { latlng: L.latLng(30.60512341, 119.61512339) })
    await vi.waitFor(() => expect(pickerButton('confirm').disabled).toBe(false), { timeout: 15_000 })
    expect(document.body.querySelector('[data-testid="map-picker-value"]')!.textContent).toContain(
      '纬度 30.605123，经度 119.615123',
    )
    pickerButton('confirm').click()
    await vi.waitFor(() => expect(wrapper.findComponent(MapPointPicker).exists()).toBe(false), {
      timeout: 15_000,
    })

    expect(wrapper.getComponent(LocationField).emitted('update:modelValue')!.at(-1)).toEqual([
      { lat: 30.6051234, lng: 119.6151234 },
    ])
    expect(wrapper.get('[data-testid="location-value"]').text()).toContain('纬度 30.605123，经度 119.615123')
    expect(wrapper.get('[data-testid="location-picked"]').text()).toBe('地图选点')
    expect(wrapper.find('[data-testid="location-accuracy"]').exists()).toBe(false)
    expect(warning(wrapper).text()).toBe(OUTSIDE_WARNING_A)

    await wrapper.get('[data-testid="field-type-school"]').trigger('click')
    await fill(wrapper, 'name', '横山小学')
    await fill(wrapper, 'address', '横山村学校路1号')
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    const fields = await savedFields(wrapper)
    expect(fields).toMatchObject({ gridId: GRID_A })
    expect(fields.location).toEqual({ lat: 30.6051234, lng: 119.6151234 })
  })

  it('keeps the location when the picker is cancelled', async () => {
    stubGps(IN_A)
    const { wrapper } = mountWith(HouseholdForm, env)
    await gridsShown(wrapper)
    await wrapper.get('[data-testid="field-location-get"]').trigger('click')
    await vi.waitFor(() => expect(wrapper.find('[data-testid="location-accuracy"]').exists()).toBe(true), {
      timeout: 15_000,
    })
    const picker = await openPicker(wrapper)
    picker.vm.map!.fire('click', { latlng: L.latLng(30.5, 119.5) })
    await settle()
    pickerButton('cancel').click()
    await vi.waitFor(() => expect(wrapper.findComponent(MapPointPicker).exists()).toBe(false), {
      timeout: 15_000,
    })
    expect(wrapper.getComponent(LocationField).emitted('update:modelValue')).toHaveLength(1)
    expect(wrapper.get('[data-testid="location-value"]').text()).toContain('纬度 30.605000，经度 119.605000')
    expect(warning(wrapper).exists()).toBe(false)
  })
})
