import { afterEach, describe, expect, it, vi } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import type { AdminUser, CreateUserRequest } from '#shared/schemas/admin.ts'
import UserForm from '../../src/components/admin/UserForm.vue'
import AdminUsersPanel from '../../src/components/admin/AdminUsersPanel.vue'
import type { AdminApi } from '../../src/sync/adminApi.ts'
import { RequestError } from '../../src/sync/ports.ts'
import {
  ADMIN,
  AREAS,
  GRID_A,
  GRID_B,
  mountWith,
  offlineAdmin,
  settle,
  setupEnv,
  type TestEnv,
} from './harness.ts'
import { errorOf, fill } from './formHelpers.ts'

let env: TestEnv | undefined
afterEach(async () => {
  document.body.innerHTML = ''
  await env?.close()
  env = undefined
})

const WORKER_2: AdminUser = {
  id: '7',
  username: 'worker2',
  displayName: '孙网格',
  role: 'worker',
  areaIds: [GRID_A],
  disabled: false,
  createdAt: 1_760_000_000_000,
}

async function mount(admin: Partial<AdminApi>, user: AdminUser | null = null) {
  env = await setupEnv({ user: ADMIN, online: true, admin: { ...offlineAdmin(), ...admin } })
  const { wrapper } = mountWith(UserForm, env, { props: { areas: AREAS, user } })
  await settle()
  return wrapper as VueWrapper
}

describe('admin user form', () => {
  it('creates a user with username, name, role, areas picked from the tree and an initial password', async () => {
    const createUser = vi.fn(async (body: CreateUserRequest) => ({
      ...body,
      id: '9',
      disabled: false,
      createdAt: 1_760_000_000_000,
    }))
    const wrapper = await mount({ createUser })
    await fill(wrapper, 'username', 'worker4')
    await fill(wrapper, 'displayName', '周网格')
    await wrapper.get('[data-testid="field-role-leader"]').trigger('click')
    // The picker lists the tree: county, town, village, grids.
    expect(wrapper.findAll('[data-testid^="area-option-"]')).toHaveLength(AREAS.length)
    await wrapper.get(`[data-testid="area-option-${GRID_B}"]`).setValue(true)
    await wrapper.get('[data-testid="area-option-330523101001"]').setValue(true)
    expect(wrapper.get('[data-testid="user-area-names"]').text()).toBe('横山村、横山村第二网格')
    await fill(wrapper, 'password', 'longenough1')
    await wrapper.get('form').trigger('submit')
    await settle()
    expect(createUser).toHaveBeenCalledWith({
      username: 'worker4',
      displayName: '周网格',
      role: 'leader',
      areaIds: ['330523101001', GRID_B],
      password: 'longenough1',
    })
    expect(wrapper.emitted('done')).toHaveLength(1)
  })

  it('checks the fields before sending, and shows a taken username next to the username', async () => {
    const createUser = vi.fn(async () => {
      throw new RequestError('用户名 worker4 已被使用', 409, 'username_taken', 'username')
    })
    const wrapper = await mount({ createUser })
    await fill(wrapper, 'username', 'worker4')
    await fill(wrapper, 'displayName', '周网格')
    await fill(wrapper, 'password', 'short')
    await wrapper.get('form').trigger('submit')
    await settle()
    expect(errorOf(wrapper, 'password')).toBe('密码至少8位')
    expect(errorOf(wrapper, 'areaIds')).toBe('请至少选择一个区域')
    expect(createUser).not.toHaveBeenCalled()

    await wrapper.get(`[data-testid="area-option-${GRID_A}"]`).setValue(true)
    await fill(wrapper, 'password', 'longenough1')
    await wrapper.get('form').trigger('submit')
    await settle()
    expect(createUser).toHaveBeenCalledTimes(1)
    expect(errorOf(wrapper, 'username')).toBe('用户名 worker4 已被使用')
    expect(errorOf(wrapper, 'password')).toBe('')
  })

  it('edits role and areas, sending only what changed; a typed password resets it', async () => {
    const updateUser = vi.fn(async (id: string, changes: Partial<AdminUser>) => ({
      ...WORKER_2,
      id,
      ...changes,
    }))
    const wrapper = await mount({ updateUser }, WORKER_2)
    expect(wrapper.find('input[data-testid="field-username"]').exists()).toBe(false)
    expect(wrapper.get<HTMLInputElement>('input[data-testid="field-displayName"]').element.value).toBe(
      '孙网格',
    )
    await wrapper.get('[data-testid="field-role-leader"]').trigger('click')
    await wrapper.get(`[data-testid="area-option-${GRID_A}"]`).setValue(false)
    await wrapper.get('[data-testid="area-option-330523101001"]').setValue(true)
    await wrapper.get('form').trigger('submit')
    await settle()
    expect(updateUser).toHaveBeenLastCalledWith('7', { role: 'leader', areaIds: ['330523101001'] })

    await fill(wrapper, 'password', 'newpassword9')
    await wrapper.get('form').trigger('submit')
    await settle()
    expect(updateUser).toHaveBeenLastCalledWith('7', {
      role: 'leader',
      areaIds: ['330523101001'],
      password: 'newpassword9',
    })
  })
})

describe('admin user list', () => {
  it('lists users with role and areas, and disables one after a confirmation', async () => {
    const updateUser = vi.fn(async (id: string, changes: Partial<AdminUser>) => ({
      ...WORKER_2,
      id,
      ...changes,
    }))
    env = await setupEnv({
      user: ADMIN,
      online: true,
      admin: {
        ...offlineAdmin(),
        listUsers: async () => [WORKER_2],
        listAreas: async () => AREAS,
        updateUser,
      },
    })
    const { wrapper } = mountWith(AdminUsersPanel, env)
    await settle()
    const item = wrapper.get('[data-testid="user-item"]')
    expect(item.text()).toContain('孙网格')
    expect(item.text()).toContain('网格员')
    expect(item.text()).toContain('横山村第一网格')
    expect(item.find('[data-testid="user-disabled"]').exists()).toBe(false)

    await item.get('[data-testid="user-toggle-disabled"]').trigger('click')
    await settle()
    expect(document.querySelector('.van-dialog__message')?.textContent).toContain('孙网格 将无法登录')
    document.querySelector<HTMLElement>('.van-dialog__confirm')!.click()
    await settle()
    expect(updateUser).toHaveBeenCalledWith('7', { disabled: true })
    expect(wrapper.get('[data-testid="user-disabled"]').text()).toBe('已停用')
    expect(wrapper.get('[data-testid="user-toggle-disabled"]').text()).toBe('启用')
  })
})
