import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { enableAutoUnmount, type VueWrapper } from '@vue/test-utils'
import HouseholdMembers from '../../src/components/household/HouseholdMembers.vue'
import PhotoField from '../../src/components/photo/PhotoField.vue'
import { photoUploadState } from '../../src/components/photo/photoUploadState.ts'
import { useRecordsStore, type BlobStatus } from '../../src/stores/useRecordsStore.ts'
import { useSyncStore } from '../../src/stores/useSyncStore.ts'
import { GRID_A, NOW, mountWith, settle, setupEnv, type TestEnv } from './harness.ts'

// Saving goes through several IndexedDB round trips; on a loaded 2-core CI box the default 5 s is tight.
vi.setConfig({ testTimeout: 20_000 })

// Unmount each test's components, so that none of them outlives its database (and its Pinia).
enableAutoUnmount(afterEach)

let env: TestEnv
beforeEach(async () => {
  env = await setupEnv()
})
afterEach(async () => {
  document.body.innerHTML = ''
  await env.close()
})

const person = (householdId: string, name: string) => ({
  gridId: GRID_A,
  householdId,
  name,
  gender: 'female',
  birthDate: '1950-01-02',
  relation: 'other',
  populationType: 'registered',
})

async function household(address: string): Promise<string> {
  return useRecordsStore(env.pinia).create('household', {
    gridId: GRID_A,
    address,
    housing: 'owned',
    headName: '户主',
  })
}

describe('HouseholdMembers', () => {
  it("lists the household's own live members and offers 添加成员", async () => {
    const records = useRecordsStore(env.pinia)
    const mine = await household('横山村1号')
    const other = await household('横山村2号')
    await records.create('person', person(mine, '张一'))
    await records.create('person', person(mine, '张二'))
    const gone = await records.create('person', person(mine, '张三'))
    await records.remove('person', gone)
    await records.create('person', person(other, '李四'))

    const { wrapper } = mountWith(HouseholdMembers, env, { props: { householdId: mine, canAdd: true } })
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid="member-item"]')).toHaveLength(2))
    const names = wrapper.findAll('[data-testid="member-item"]').map((item) => item.text())
    expect(names.join()).toContain('张一')
    expect(names.join()).toContain('张二')
    expect(names.join()).not.toContain('李四')
    expect(wrapper.get('[data-testid="add-member"]').text()).toBe('添加成员')

    await records.create('person', person(mine, '张五'))
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid="member-item"]')).toHaveLength(3))
  })

  it('says 暂无家庭成员 and hides the add button for a role that may not add', async () => {
    const mine = await household('横山村3号')
    const { wrapper } = mountWith(HouseholdMembers, env, { props: { householdId: mine, canAdd: false } })
    await settle()
    expect(wrapper.text()).toContain('暂无家庭成员')
    expect(wrapper.find('[data-testid="add-member"]').exists()).toBe(false)
  })
})

describe('photoUploadState', () => {
  const row = (over: Partial<BlobStatus> = {}): BlobStatus => ({
    uploaded: false,
    staged: false,
    offset: 0,
    bytes: 1000,
    ...over,
  })
  it('says what the device row of the bytes says: 保存后上传, 待上传, 上传中 n%, 已传 n%, 已上传', () => {
    expect(photoUploadState('a', row({ staged: true }), null)).toEqual({ state: 'staged' })
    expect(photoUploadState('a', row(), null)).toEqual({ state: 'pending' })
    expect(photoUploadState('a', row(), { sha256: 'b', sent: 5, total: 10 })).toEqual({ state: 'pending' })
    expect(photoUploadState('a', row(), { sha256: 'a', sent: 5, total: 10 })).toEqual({
      state: 'uploading',
      percent: 50,
    })
    expect(photoUploadState('a', row({ offset: 250 }), null)).toEqual({ state: 'partial', percent: 25 })
    expect(photoUploadState('a', row({ uploaded: true }), null)).toEqual({ state: 'uploaded' })
    // Not on this device: the server has it (a photo another device took).
    expect(photoUploadState('a', undefined, null)).toEqual({ state: 'uploaded' })
  })
})

describe('PhotoField', () => {
  const SHA = 'a'.repeat(64)

  async function mountField(): Promise<{ wrapper: VueWrapper; ownerId: string }> {
    const ownerId = await household('横山村9号')
    await useRecordsStore(env.pinia).create('photo', {
      gridId: GRID_A,
      ownerKind: 'household',
      ownerId,
      sha256: SHA,
      mime: 'image/jpeg',
      width: 1600,
      height: 1200,
      bytes: 300_000,
      takenAt: NOW,
    })
    await env.db.photoBlobs.put({
      sha256: SHA,
      mime: 'image/jpeg',
      data: new ArrayBuffer(8),
      bytes: 8,
      uploaded: 0,
      offset: 0,
      createdAt: NOW,
    })
    const { wrapper } = mountWith(PhotoField, env, {
      props: { owner: { kind: 'household', id: ownerId, gridId: GRID_A }, label: '照片' },
    })
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid="photo-thumb"]')).toHaveLength(1))
    return { wrapper: wrapper as VueWrapper, ownerId }
  }

  const stateText = (wrapper: VueWrapper) => wrapper.get('[data-testid="photo-state"]').text()

  it('shows each photo as 待上传, 上传中 n% while it uploads, 已传 n% when stopped part way, then 已上传', async () => {
    const { wrapper } = await mountField()
    await vi.waitFor(() => expect(stateText(wrapper)).toBe('待上传'))
    const sync = useSyncStore(env.pinia)
    sync.photoProgress = { sha256: SHA, sent: 4, total: 8 }
    await vi.waitFor(() => expect(stateText(wrapper)).toBe('上传中 50%'))
    // The connection dropped after the first chunk: the row keeps what the server holds.
    sync.photoProgress = null
    await env.db.photoBlobs.update(SHA, { offset: 2 })
    await vi.waitFor(() => expect(stateText(wrapper)).toBe('已传 25%，联网后继续'))
    await env.db.photoBlobs.update(SHA, { offset: 8, uploaded: 1 })
    await vi.waitFor(() => expect(stateText(wrapper)).toBe('已上传'))
  })

  it('takes or chooses photos with the camera input and hands them to the store for its owner', async () => {
    const { wrapper, ownerId } = await mountField()
    const input = wrapper.get<HTMLInputElement>('[data-testid="photo-input"]')
    expect(input.attributes('accept')).toBe('image/*')
    expect(input.attributes('capture')).toBe('environment')
    const addPhoto = vi.spyOn(useRecordsStore(env.pinia), 'addPhoto').mockResolvedValue('new-photo-id')
    const file = new File([new Uint8Array([1, 2, 3])], 'p.jpg', { type: 'image/jpeg' })
    Object.defineProperty(input.element, 'files', { configurable: true, value: [file] })
    await input.trigger('change')
    await settle()
    expect(addPhoto).toHaveBeenCalledWith(file, { kind: 'household', id: ownerId, gridId: GRID_A })
  })
})
