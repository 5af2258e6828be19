import { afterEach, describe, expect, it, vi } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import type { Area } from '#shared/schemas/api.ts'
import AreaForm from '../../src/components/admin/AreaForm.vue'
import AdminAreasPanel from '../../src/components/admin/AdminAreasPanel.vue'
import { useAdminStore } from '../../src/stores/useAdminStore.ts'
import type { AdminApi } from '../../src/sync/adminApi.ts'
import { RequestError } from '../../src/sync/ports.ts'
import { ADMIN, AREAS, GRID_A, mountWith, offlineAdmin, settle, setupEnv, type TestEnv } from './harness.ts'
import { errorOf, fill } from './formHelpers.ts'

let env: TestEnv | undefined
afterEach(async () => {
  document.body.innerHTML = ''
  await env?.close()
  env = undefined
})

const VILLAGE_2: Area = {
  id: '330523101002',
  level: 'village',
  name: '上舍村',
  parentId: '330523101',
  geometry: null,
}
const TREE: Area[] = [...AREAS, VILLAGE_2]
const gridA = TREE.find((area) => area.id === GRID_A)!

const square = (lng: number, lat: number) =>
  JSON.stringify({
    type: 'Polygon',
    coordinates: [
      [
        [lng, lat],
        [lng + 0.01, lat],
        [lng + 0.01, lat + 0.01],
        [lng, lat + 0.01],
        [lng, lat],
      ],
    ],
  })

async function mountForm(admin: Partial<AdminApi>, props: Record<string, unknown>) {
  env = await setupEnv({ user: ADMIN, online: true, admin: { ...offlineAdmin(), ...admin } })
  useAdminStore().areas = TREE
  const { wrapper } = mountWith(AreaForm, env, { props: { areas: TREE, ...props } })
  await settle()
  return wrapper as VueWrapper
}

describe('admin area form', () => {
  it("shows the server's overlap error next to the polygon, naming the other grid", async () => {
    const updateArea = vi.fn(async () => {
      throw new RequestError(
        '网格边界与“横山村第二网格”（330523101001002）重叠',
        400,
        'overlapping_grid',
        'geometry',
      )
    })
    const wrapper = await mountForm({ updateArea }, { area: gridA })
    expect(wrapper.get('[data-testid="area-code"]').text()).toContain(GRID_A)
    await fill(wrapper, 'geometry', square(119.605, 30.6))
    await wrapper.get('form').trigger('submit')
    await settle()
    expect(updateArea).toHaveBeenCalledWith(GRID_A, { geometry: JSON.parse(square(119.605, 30.6)) })
    expect(errorOf(wrapper, 'geometry')).toBe('网格边界与“横山村第二网格”（330523101001002）重叠')
    expect(errorOf(wrapper, 'name')).toBe('')
    expect(wrapper.emitted('done')).toBeUndefined()
  })

  it('refuses text that is not a GeoJSON polygon before asking the server', async () => {
    const updateArea = vi.fn()
    const wrapper = await mountForm({ updateArea }, { area: gridA })
    await fill(wrapper, 'geometry', '{"type":"Polygon",')
    await wrapper.get('form').trigger('submit')
    await settle()
    expect(errorOf(wrapper, 'geometry')).toBe('不是有效的 JSON')
    await fill(wrapper, 'geometry', '{"type":"Point","coordinates":[119.6,30.6]}')
    await wrapper.get('form').trigger('submit')
    await settle()
    expect(errorOf(wrapper, 'geometry')).toBe('应为 GeoJSON Polygon（或含 Polygon 的 Feature）')
    await fill(wrapper, 'name', ' ')
    await wrapper.get('form').trigger('submit')
    await settle()
    expect(errorOf(wrapper, 'name')).toBe('不能为空')
    expect(updateArea).not.toHaveBeenCalled()
  })

  it('moves a grid to another village with the picker, sending only the new parent', async () => {
    const updateArea = vi.fn(async (id: string) => ({
      area: { ...gridA, id, parentId: VILLAGE_2.id },
      movedRecords: 12,
    }))
    const wrapper = await mountForm({ updateArea }, { area: gridA })
    const picker = wrapper.get<HTMLSelectElement>('select[data-testid="field-parentId"]')
    expect(picker.element.value).toBe('330523101001')
    expect(picker.findAll('option').map((option) => option.text())).toEqual([
      '递铺街道 › 横山村',
      '递铺街道 › 上舍村',
    ])
    await picker.setValue(VILLAGE_2.id)
    await wrapper.get('form').trigger('submit')
    await settle()
    expect(updateArea).toHaveBeenCalledWith(GRID_A, { parentId: VILLAGE_2.id })
    expect(wrapper.emitted('done')).toHaveLength(1)
    expect(document.body.textContent).toContain('已移动网格，12 条记录随之迁移')
    expect(useAdminStore().areas.find((area) => area.id === GRID_A)?.parentId).toBe(VILLAGE_2.id)
  })

  it('adds a grid under a village with the next free code, its level and its polygon', async () => {
    const createArea = vi.fn(async (area: Area) => area)
    const village = TREE.find((area) => area.id === '330523101001')!
    const wrapper = await mountForm({ createArea }, { parent: village })
    expect(wrapper.get('[data-testid="area-level"]').text()).toContain('网格')
    expect(wrapper.get<HTMLInputElement>('input[data-testid="field-id"]').element.value).toBe('003')
    expect(wrapper.get('[data-testid="area-code"]').text()).toBe('完整编码：330523101001003')
    await fill(wrapper, 'name', '横山村第三网格')
    await wrapper.get('form').trigger('submit')
    await settle()
    expect(errorOf(wrapper, 'geometry')).toBe('网格需要边界')
    await fill(
      wrapper,
      'geometry',
      JSON.stringify({ type: 'Feature', properties: {}, geometry: JSON.parse(square(119.62, 30.6)) }),
    )
    await wrapper.get('form').trigger('submit')
    await settle()
    expect(createArea).toHaveBeenCalledWith({
      id: '330523101001003',
      level: 'grid',
      name: '横山村第三网格',
      parentId: '330523101001',
      geometry: JSON.parse(square(119.62, 30.6)),
    })
    expect(wrapper.emitted('done')).toHaveLength(1)
  })

  it('shows a refused code next to the code field', async () => {
    const createArea = vi.fn(async () => {
      throw new RequestError('编码 330523101002 已存在', 409, 'area_exists', 'id')
    })
    const town = TREE.find((area) => area.id === '330523101')!
    const wrapper = await mountForm({ createArea }, { parent: town })
    expect(wrapper.get('[data-testid="area-level"]').text()).toContain('村')
    await fill(wrapper, 'id', '002')
    await fill(wrapper, 'name', '新村')
    await wrapper.get('form').trigger('submit')
    await settle()
    expect(createArea).toHaveBeenCalledWith({
      id: '330523101002',
      level: 'village',
      name: '新村',
      parentId: '330523101',
    })
    expect(errorOf(wrapper, 'id')).toBe('编码 330523101002 已存在')
  })
})

describe('admin area tree', () => {
  it('lists county › town › village › grid with names and codes, and opens the form on a grid', async () => {
    env = await setupEnv({
      user: ADMIN,
      online: true,
      admin: { ...offlineAdmin(), listAreas: async () => TREE },
    })
    const { wrapper } = mountWith(AdminAreasPanel, env)
    await settle()
    const nodes = wrapper.findAll('[data-testid="area-node"]')
    expect(nodes.map((node) => node.attributes('data-area-id'))).toEqual([
      '330523',
      '330523101',
      '330523101001',
      GRID_A,
      '330523101001002',
      '330523101002',
    ])
    expect(nodes[3]!.text()).toContain('横山村第一网格')
    expect(nodes[3]!.text()).toContain(GRID_A)
    expect(nodes[3]!.classes()).toContain('gp-area-depth-3')
    // Grids have no children to add.
    expect(nodes[3]!.find('[data-testid="area-add-child"]').exists()).toBe(false)
    expect(nodes[2]!.get('[data-testid="area-add-child"]').text()).toBe('添加网格')
    await nodes[3]!.get('[data-testid="area-edit"]').trigger('click')
    await settle()
    expect(document.querySelector('[data-testid="area-form"]')?.textContent).toContain('编辑：横山村第一网格')
  })
})
