import { afterEach, describe, expect, it, vi } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import type { SessionUser } from '#shared/schemas/api.ts'
import HouseholdForm from '../../src/components/household/HouseholdForm.vue'
import PlaceForm from '../../src/components/place/PlaceForm.vue'
import type { EditableRecord } from '../../src/components/form/useRecordForm.ts'
import { useRecordsStore } from '../../src/stores/useRecordsStore.ts'
import type { HttpTransport } from '../../src/sync/httpTransport.ts'
import {
  GRID_A,
  HANDLER,
  LEADER,
  WORKER,
  mountWith,
  offlineTransport,
  settle,
  setupEnv,
  type TestEnv,
} from './harness.ts'
import { errorOf, fill, gridsShown } from './formHelpers.ts'

let env: TestEnv | undefined
afterEach(async () => {
  document.body.innerHTML = ''
  await env?.close()
  env = undefined
})

const HOUSEHOLD: EditableRecord = {
  id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  kind: 'household',
  fields: {
    gridId: GRID_A,
    address: '横山村3号',
    housing: 'owned',
    headName: '钱多',
    // As the server sends it to a leader: masked.
    headPhone: '138****5678',
  },
}
const PLACE: EditableRecord = {
  id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c',
  kind: 'place',
  fields: {
    gridId: GRID_A,
    type: 'shop',
    name: '横山小卖部',
    address: '横山村1号',
    riskLevel: 'low',
    contactPhone: '139****0001',
  },
}

async function mountHousehold(
  user: SessionUser,
  options: { online?: boolean; transport?: HttpTransport; record?: EditableRecord } = {},
) {
  env = await setupEnv({
    user,
    online: options.online ?? true,
    transport: options.transport ?? offlineTransport(),
  })
  const { wrapper } = mountWith(HouseholdForm, env, { props: { record: options.record ?? HOUSEHOLD } })
  await gridsShown(wrapper)
  await settle()
  return wrapper as VueWrapper
}

const phoneInput = (wrapper: VueWrapper, name = 'headPhone') =>
  wrapper.get<HTMLInputElement>(`input[data-testid="field-${name}"]`).element

describe('masked values', () => {
  it('shows a masked phone as the placeholder of an empty input, and 查看 shows the clear value in place', async () => {
    const unmask = vi.fn(async () => ({ field: 'headPhone', value: '13812345678' }))
    const wrapper = await mountHousehold(LEADER, { transport: { ...offlineTransport(), unmask } })
    expect(phoneInput(wrapper).value).toBe('')
    expect(phoneInput(wrapper).placeholder).toBe('138****5678')
    expect(wrapper.get('[data-testid="masked-hint-headPhone"]').text()).toContain('号码已隐藏')

    await wrapper.get('[data-testid="unmask-headPhone"]').trigger('click')
    await settle()
    expect(unmask).toHaveBeenCalledWith('household', HOUSEHOLD.id, 'headPhone')
    expect(phoneInput(wrapper).placeholder).toBe('13812345678')
    expect(wrapper.get('[data-testid="masked-hint-headPhone"]').text()).toContain('已显示完整号码')
    expect(wrapper.get('[data-testid="revealed-headPhone"]').text()).toBe('13812345678')
    expect(wrapper.get('[data-testid="revealed-headPhone"]').attributes('href')).toBe('tel:13812345678')
    // Shown, not typed: the clear value is not in the input (so it is not sent back either).
    expect(phoneInput(wrapper).value).toBe('')
    expect(wrapper.find('[data-testid="unmask-headPhone"]').exists()).toBe(false)
  })

  it('never sends the masked value back: a save without a new number leaves the phone out of the patch', async () => {
    const unmask = vi.fn(async () => ({ field: 'headPhone', value: '13812345678' }))
    const wrapper = await mountHousehold(LEADER, { transport: { ...offlineTransport(), unmask } })
    const update = vi.spyOn(useRecordsStore(), 'update').mockResolvedValue(true)
    await wrapper.get('[data-testid="unmask-headPhone"]').trigger('click')
    await settle()
    await fill(wrapper, 'headName', '钱少')
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await settle()
    expect(errorOf(wrapper, 'headPhone')).toBe('')
    expect(update).toHaveBeenCalledTimes(1)
    expect(update).toHaveBeenCalledWith('household', HOUSEHOLD.id, { headName: '钱少' })
    expect(JSON.stringify(update.mock.calls)).not.toContain('*')
    await vi.waitFor(() => expect(wrapper.emitted('saved')).toEqual([[HOUSEHOLD.id, 'updated']]), {
      timeout: 15_000,
    })
  })

  it('saves nothing when only the masked field was left as it was', async () => {
    const wrapper = await mountHousehold(LEADER)
    const update = vi.spyOn(useRecordsStore(), 'update').mockResolvedValue(true)
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await settle()
    expect(update).not.toHaveBeenCalled()
    await vi.waitFor(() => expect(wrapper.emitted('saved')).toEqual([[HOUSEHOLD.id, 'unchanged']]), {
      timeout: 15_000,
    })
  })

  it('sends the phone only when the user typed a new number, and checks it', async () => {
    const wrapper = await mountHousehold(LEADER)
    const update = vi.spyOn(useRecordsStore(), 'update').mockResolvedValue(true)
    await fill(wrapper, 'headPhone', '1390000')
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await settle()
    expect(errorOf(wrapper, 'headPhone')).toBe('手机号应为11位数字')
    expect(update).not.toHaveBeenCalled()

    await fill(wrapper, 'headPhone', '13900001111')
    await wrapper.get('[data-testid="form-save"]').trigger('click')
    await settle()
    expect(update).toHaveBeenCalledWith('household', HOUSEHOLD.id, { headPhone: '13900001111' })
  })

  it('says clearly that the clear value needs the network when offline', async () => {
    const unmask = vi.fn(async () => ({ field: 'headPhone', value: '13812345678' }))
    const wrapper = await mountHousehold(LEADER, {
      online: false,
      transport: { ...offlineTransport(), unmask },
    })
    await wrapper.get('[data-testid="unmask-headPhone"]').trigger('click')
    await settle()
    expect(unmask).not.toHaveBeenCalled()
    expect(errorOf(wrapper, 'headPhone')).toBe('当前离线，无法查看完整号码，请联网后再试')
    expect(phoneInput(wrapper).placeholder).toBe('138****5678')
  })

  it('has no 查看 button for a handler', async () => {
    env = await setupEnv({ user: HANDLER, online: true })
    const { wrapper } = mountWith(PlaceForm, env, { props: { record: PLACE } })
    await gridsShown(wrapper as VueWrapper)
    await settle()
    expect(phoneInput(wrapper as VueWrapper, 'contactPhone').placeholder).toBe('139****0001')
    expect(wrapper.find('[data-testid="unmask-contactPhone"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="masked-hint-contactPhone"]').exists()).toBe(true)
  })

  it('shows a phone the role sees in clear as an ordinary value, without 查看', async () => {
    const record = { ...HOUSEHOLD, fields: { ...HOUSEHOLD.fields, headPhone: '13812345678' } }
    const wrapper = await mountHousehold(WORKER, { record })
    expect(phoneInput(wrapper).value).toBe('13812345678')
    expect(wrapper.find('[data-testid="unmask-headPhone"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="masked-hint-headPhone"]').exists()).toBe(false)
  })
})
