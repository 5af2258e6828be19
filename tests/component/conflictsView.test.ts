import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { enableAutoUnmount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import type {
  ConflictQueue,
  ConflictQueueItem,
  ResolveConflictRequest,
} from '#shared/schemas/conflictQueue.ts'
import ConflictsView from '../../src/views/ConflictsView.vue'
import { retireOutbox } from '../../src/db/deviceClock.ts'
import ConflictsLink from '../../src/components/conflicts/ConflictsLink.vue'
import type { ConflictsApi } from '../../src/components/conflicts/conflictsApi.ts'
import { setConflictsApi, useConflictsStore } from '../../src/stores/useConflictsStore.ts'
import { setServices } from '../../src/stores/services.ts'
import { useRecordsStore } from '../../src/stores/useRecordsStore.ts'
import { TransportError } from '../../src/sync/ports.ts'
import {
  GRID_A,
  LEADER,
  NOW,
  WORKER,
  appRouter,
  mountWith,
  setOnline,
  setupEnv,
  type TestEnv,
} from './harness.ts'

enableAutoUnmount(afterEach)

let env: TestEnv
let online = true
let api: ConflictsApi & { resolved: ResolveConflictRequest[]; items: ConflictQueueItem[] }

function fakeApi(): typeof api {
  const state = {
    resolved: [] as ResolveConflictRequest[],
    items: [] as ConflictQueueItem[],
    async queue(): Promise<ConflictQueue> {
      if (!online) throw new TransportError('network error: offline')
      return { conflicts: state.items, total: state.items.length, next: null }
    },
    async resolve(request: ResolveConflictRequest) {
      if (!online) throw new TransportError('network error: offline')
      state.resolved.push(request)
      state.items = state.items.filter((i) => !(i.recordId === request.recordId && i.field === request.field))
      return { ...request, resolvedAt: NOW, resolvedBy: LEADER.id, resolvedByName: LEADER.displayName }
    },
  }
  return state
}

function conflictOn(
  recordId: string,
  field: string,
  kept: unknown,
  lost: unknown,
  id = 1,
): ConflictQueueItem {
  return {
    id,
    recordId,
    kind: 'household',
    label: '横山村1号 8号',
    deleted: false,
    field,
    type: 'edit',
    kept: {
      stamp: `${NOW + 2000}:0000:devb`,
      value: kept,
      userId: 'u2',
      userName: '张网格',
      deviceId: 'device-b',
      at: NOW + 2000,
    },
    lost: {
      stamp: `${NOW + 1000}:0000:deva`,
      value: lost,
      userId: 'u1',
      userName: '李网格',
      deviceId: 'device-a',
      at: NOW + 1000,
    },
    createdAt: NOW + 3000,
  }
}

/** A household on the device as if pulled: its creation already left the outbox. */
async function pulledHousehold(headName: string): Promise<string> {
  const id = await useRecordsStore().create('household', {
    gridId: GRID_A,
    address: '横山村1号',
    houseNumber: '8号',
    housing: 'owned',
    headName,
  })
  await acknowledgeAll()
  return id
}

/** The outbox emptied as a push's answer empties it: the device's clock and op seq are first raised past it. */
async function acknowledgeAll(): Promise<void> {
  await env.db.transaction('rw', env.db.outbox, env.db.meta, async () => {
    await retireOutbox(env.db, () => 'unused')
    await env.db.outbox.clear()
  })
}

beforeEach(async () => {
  online = true
  setOnline(true)
  env = await setupEnv({ user: LEADER, online: true })
  setServices({ isOnline: () => online })
  api = fakeApi()
  setConflictsApi(api)
})
afterEach(async () => {
  setConflictsApi(null)
  globalThis.localStorage.clear()
  setOnline(true)
  await env.close()
})

describe('ConflictsView', () => {
  it('shows each conflict as a card (record, field, kept vs overwritten value, who) and keeps the current value', async () => {
    const id = await pulledHousehold('潘建华')
    api.items = [
      conflictOn(id, 'headName', '潘建华', '潘建民'),
      conflictOn(id, 'housing', 'rented', 'owned', 2),
    ]
    const { wrapper } = mountWith(ConflictsView, env)
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid="conflict-card"]')).toHaveLength(2), {
      timeout: 15_000,
    })
    const card = wrapper.get('[data-field="headName"]')
    expect(card.get('[data-testid="conflict-record"]').text()).toBe('横山村1号 8号')
    expect(card.get('[data-testid="conflict-field"]').text()).toContain('户主姓名')
    expect(card.get('[data-testid="conflict-kept"]').text()).toBe('潘建华')
    expect(card.get('[data-testid="conflict-lost"]').text()).toBe('潘建民')
    expect(card.get('[data-testid="conflict-kept-who"]').text()).toContain('张网格')
    expect(card.get('[data-testid="conflict-lost-who"]').text()).toContain('李网格')
    expect(card.text()).toContain('保留的值')
    expect(card.text()).toContain('被覆盖的值')
    // Codes read as their labels.
    expect(wrapper.get('[data-field="housing"] [data-testid="conflict-kept"]').text()).toBe('租赁')

    await card.get('[data-testid="conflict-keep"]').trigger('click')
    await vi.waitFor(() => expect(api.resolved).toHaveLength(1), { timeout: 15_000 })
    expect(api.resolved[0]).toEqual({
      recordId: id,
      field: 'headName',
      loserStamp: `${NOW + 1000}:0000:deva`,
      decision: 'keep',
    })
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid="conflict-card"]')).toHaveLength(1), {
      timeout: 15_000,
    })
    // Keeping writes nothing on the device.
    expect((await useRecordsStore().get(id))!.fields.headName).toBe('潘建华')
  })

  it('restores the other value offline as an ordinary edit, and sends the decision after the next sync', async () => {
    const id = await pulledHousehold('潘建华')
    api.items = [conflictOn(id, 'headName', '潘建华', '潘建民')]
    const { wrapper } = mountWith(ConflictsView, env)
    await vi.waitFor(() => expect(wrapper.find('[data-testid="conflict-card"]').exists()).toBe(true), {
      timeout: 15_000,
    })

    online = false
    setOnline(false)
    await wrapper.get('[data-testid="conflict-restore"]').trigger('click')
    // The edit is on the device and in the outbox, like any edit.
    await vi.waitFor(async () => expect((await useRecordsStore().get(id))!.fields.headName).toBe('潘建民'), {
      timeout: 15_000,
    })
    const ops = await env.db.outbox.toArray()
    expect(ops).toHaveLength(1)
    expect(ops[0]).toMatchObject({ type: 'put', id, fields: { headName: '潘建民' } })
    await vi.waitFor(() => expect(wrapper.find('[data-testid="conflicts-pending"]').exists()).toBe(true), {
      timeout: 15_000,
    })
    expect(wrapper.find('[data-testid="conflict-card"]').exists()).toBe(false)
    expect(api.resolved).toEqual([])

    // Back online, but the edit has not left the device yet: the decision still waits.
    online = true
    setOnline(true)
    await env.db.setMeta('lastSyncAt', NOW + 10_000)
    await useConflictsStore().flush()
    expect(api.resolved).toEqual([])
    // A sync pushed the edit (the outbox is empty) and finished: now the decision goes out.
    await acknowledgeAll()
    await env.db.setMeta('lastSyncAt', NOW + 20_000)
    await vi.waitFor(() => expect(api.resolved).toHaveLength(1), { timeout: 15_000 })
    expect(api.resolved[0]).toMatchObject({ recordId: id, field: 'headName', decision: 'restored' })
    await vi.waitFor(() => expect(wrapper.find('[data-testid="conflicts-pending"]').exists()).toBe(false), {
      timeout: 15_000,
    })
  })

  it('keeps a decision made offline across a reload and sends it once online', async () => {
    const id = await pulledHousehold('潘建华')
    api.items = [conflictOn(id, 'headName', '潘建华', '潘建民')]
    const first = mountWith(ConflictsView, env).wrapper
    await vi.waitFor(() => expect(first.find('[data-testid="conflict-card"]').exists()).toBe(true), {
      timeout: 15_000,
    })
    online = false
    setOnline(false)
    await first.get('[data-testid="conflict-keep"]').trigger('click')
    await vi.waitFor(() => expect(first.find('[data-testid="conflicts-pending"]').exists()).toBe(true), {
      timeout: 15_000,
    })
    first.unmount()
    expect(api.resolved).toEqual([])

    // "Reload": the old stores are gone, fresh ones start on the same device; the signal is back.
    useConflictsStore(env.pinia).$dispose()
    env.pinia = createPinia()
    setActivePinia(env.pinia)
    online = true
    setOnline(true)
    const second = mountWith(ConflictsView, env).wrapper
    await vi.waitFor(() => expect(api.resolved).toHaveLength(1), { timeout: 15_000 })
    expect(api.resolved[0]).toMatchObject({ recordId: id, field: 'headName', decision: 'keep' })
    await vi.waitFor(() => expect(second.find('[data-testid="conflicts-none"]').exists()).toBe(true), {
      timeout: 15_000,
    })
  })

  it('offers only 保留当前值 for a masked value', async () => {
    const id = await pulledHousehold('潘建华')
    api.items = [conflictOn(id, 'headPhone', '137****3333', '139****2222')]
    const { wrapper } = mountWith(ConflictsView, env)
    await vi.waitFor(() => expect(wrapper.find('[data-testid="conflict-card"]').exists()).toBe(true), {
      timeout: 15_000,
    })
    expect(wrapper.get('[data-testid="conflict-restore"]').attributes('disabled')).toBeDefined()
    expect(wrapper.get('[data-testid="conflict-restore-blocked"]').text()).toContain('遮挡')
  })

  it('says when the list needs a connection', async () => {
    online = false
    const { wrapper } = mountWith(ConflictsView, env)
    await vi.waitFor(
      () =>
        expect(wrapper.get('[data-testid="conflicts-problem"]').attributes('data-problem')).toBe('offline'),
      { timeout: 15_000 },
    )
  })
})

describe('access and the home link', () => {
  it("a leader's home link shows the open count, and the route is open to leaders", async () => {
    api.items = [conflictOn('01900000-0000-7000-8000-000000000001', 'headName', '甲', '乙')]
    const { wrapper } = mountWith(ConflictsLink, env)
    await vi.waitFor(
      () => expect(wrapper.get('[data-testid="conflicts-link"]').attributes('data-count')).toBe('1'),
      { timeout: 15_000 },
    )
    expect(wrapper.text()).toContain('1 条待处理')
    const router = await appRouter('/conflicts')
    expect(router.currentRoute.value.name).toBe('conflicts')
  })

  it('a worker has no link and no route', async () => {
    await env.close()
    env = await setupEnv({ user: WORKER, online: true })
    const { wrapper } = mountWith(ConflictsLink, env)
    expect(wrapper.find('[data-testid="conflicts-link"]').exists()).toBe(false)
    expect((await appRouter('/conflicts')).currentRoute.value.name).toBe('home')
  })
})
