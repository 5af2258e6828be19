import { enableAutoUnmount, type VueWrapper } from '@vue/test-utils'
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import HouseholdImport from '../../src/components/exchange/HouseholdImport.vue'
import { useRecordsStore } from '../../src/stores/useRecordsStore.ts'
import { liveRange } from '../../src/db/recordQueries.ts'
import { GRID_A, GRID_B, HANDLER, drainVantTimers, mountWith, setupEnv, type TestEnv } from './harness.ts'

const toast = vi.hoisted(() => vi.fn())
vi.mock('vant', async (importOriginal) => ({ ...(await importOriginal<object>()), showToast: toast }))

enableAutoUnmount(afterEach)
afterAll(drainVantTimers)

let env: TestEnv
beforeEach(async () => {
  toast.mockClear()
  env = await setupEnv()
})
afterEach(async () => {
  vi.restoreAllMocks()
  document.body.innerHTML = ''
  await env.close()
})

const CSV = [
  '\uFEFF网格编码,地址,门牌号,住房情况,户主姓名,户主电话,家庭人数,纬度,经度,备注',
  `${GRID_A},横山村,1号,自有,张一,13800000001,3,30.605,119.605,`,
  `${GRID_A},横山村,2号,租赁,,13800000002,,,,`, // row 3: no head name
  `${GRID_B},横山村,3号,借住,张三,,,,,`,
  `${GRID_B},横山村,4号,别墅,张四,,,,,`, // row 5: bad housing
  `${GRID_A},横山村,5号,自有,张五,,,,,`,
].join('\r\n')

async function choose(wrapper: VueWrapper, text: string) {
  await vi.waitFor(() => expect(wrapper.find('[data-testid="import-file"]').exists()).toBe(true), {
    timeout: 15_000,
  })
  const input = wrapper.get('[data-testid="import-file"]')
  const file = new File([text], '住户.csv', { type: 'text/csv' })
  Object.defineProperty(input.element, 'files', { configurable: true, value: [file] })
  await input.trigger('change')
  await vi.waitFor(() => expect(wrapper.find('[data-testid="import-preview"]').exists()).toBe(true), {
    timeout: 15_000,
  })
}

const households = () => liveRange(env.db, 'household').toArray()

describe('household import', () => {
  it('previews every row with an error per bad row, then imports all valid rows as ordinary ops', async () => {
    const { wrapper } = mountWith(HouseholdImport, env)
    await choose(wrapper, CSV)
    expect(wrapper.get('[data-testid="import-summary"]').text()).toBe('共 5 行：有效 3 行，有错误 2 行')
    const errors = wrapper
      .findAll('[data-testid="import-error"]')
      .map((row) => [
        row.attributes('data-row'),
        row.attributes('data-column'),
        row.findAll('td').map((td) => td.text()),
      ])
    expect(errors).toEqual([
      ['3', 'headName', ['3', '户主姓名', '不能为空']],
      ['5', 'housing', ['5', '住房情况', '住房应为 自有、租赁 或 借住']],
    ])
    expect(
      wrapper.findAll('[data-testid="import-valid-row"]').map((row) => row.attributes('data-row')),
    ).toEqual(['2', '4', '6'])
    // Nothing is written by the preview.
    expect(await households()).toHaveLength(0)

    await wrapper.get('[data-testid="import-run"]').trigger('click')
    await vi.waitFor(() => expect(toast).toHaveBeenCalled(), { timeout: 15_000 })
    expect(toast.mock.calls[0]![0]).toMatchObject({ message: '已导入 3 户，将随同步上传' })
    const saved = await households()
    expect(saved.map((h) => h.fields['headName']).sort()).toEqual(['张一', '张三', '张五'])
    expect(saved.find((h) => h.fields['headName'] === '张一')!.fields).toMatchObject({
      gridId: GRID_A,
      houseNumber: '1号',
      housing: 'owned',
      headPhone: '13800000001',
      memberCount: 3,
      location: { lat: 30.605, lng: 119.605 },
    })
    // Each one is an ordinary create op in the outbox, to sync like any other.
    const ops = await env.db.outbox.toArray()
    expect(ops.map((op) => [op.type, op.kind, op.type === 'put' && op.create])).toEqual([
      ['put', 'household', true],
      ['put', 'household', true],
      ['put', 'household', true],
    ])
    expect(wrapper.find('[data-testid="import-preview"]').exists()).toBe(false)
  })

  it('imports nothing when a write fails midway (one transaction), and nothing when cancelled', async () => {
    const { wrapper } = mountWith(HouseholdImport, env)
    const store = useRecordsStore(env.pinia)
    const create = store.create.bind(store)
    let calls = 0
    vi.spyOn(store, 'create').mockImplementation(async (...args) => {
      if (++calls === 3) throw new Error('磁盘已满')
      return create(...args)
    })
    await choose(wrapper, CSV)
    await wrapper.get('[data-testid="import-run"]').trigger('click')
    await vi.waitFor(() => expect(wrapper.find('[data-testid="import-failure"]').exists()).toBe(true), {
      timeout: 15_000,
    })
    expect(calls).toBe(3)
    expect(wrapper.get('[data-testid="import-failure"]').text()).toContain('未导入任何数据：磁盘已满')
    expect(await households()).toHaveLength(0)
    expect(await env.db.outbox.count()).toBe(0)

    await wrapper.get('[data-testid="import-cancel"]').trigger('click')
    await vi.waitFor(() => expect(wrapper.find('[data-testid="import-preview"]').exists()).toBe(false))
    expect(await households()).toHaveLength(0)
  })

  it('names missing columns, and refuses roles that may not create households', async () => {
    const { wrapper } = mountWith(HouseholdImport, env)
    await choose(wrapper, '地址,户主姓名\n横山村,张三\n')
    expect(wrapper.get('[data-testid="import-header-error"]').text()).toBe('缺少列：网格编码、住房情况')
    expect(wrapper.get('[data-testid="import-run"]').attributes('disabled')).toBeDefined()
    wrapper.unmount()
    await env.close()

    env = await setupEnv({ user: HANDLER })
    const handler = mountWith(HouseholdImport, env)
    await vi.waitFor(() =>
      expect(handler.wrapper.find('[data-testid="import-forbidden"]').exists()).toBe(true),
    )
    expect(handler.wrapper.find('[data-testid="import-file"]').exists()).toBe(false)
  })
})
