import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { enableAutoUnmount, type VueWrapper } from '@vue/test-utils'
import VisitList from '../../src/components/visit/VisitList.vue'
import { dateOfMs } from '../../src/components/visit/visitDate.ts'
import { useRecordsStore } from '../../src/stores/useRecordsStore.ts'
import { GRID_A, NOW, mountWith, setupEnv, type TestEnv } from './harness.ts'

enableAutoUnmount(afterEach)

let env: TestEnv
beforeEach(async () => {
  env = await setupEnv()
})
afterEach(async () => {
  document.body.innerHTML = ''
  await env.close()
})

const DAY = 86_400_000
const lastText = (wrapper: VueWrapper) => wrapper.get('[data-testid="visits-last"]').text()

async function visit(targetKind: 'household' | 'place', targetId: string, visitedAt: number) {
  await useRecordsStore(env.pinia).create('visit', {
    gridId: GRID_A,
    targetKind,
    targetId,
    visitedAt,
    notes: null,
  })
}

describe('VisitList', () => {
  it("derives a household's last visit and a place's last inspection from their visits", async () => {
    const records = useRecordsStore(env.pinia)
    const household = await records.create('household', {
      gridId: GRID_A,
      address: '横山村5号',
      housing: 'owned',
      headName: '周大',
    })
    const { wrapper } = mountWith(VisitList, env, {
      props: { targetKind: 'household', targetId: household, canAdd: true },
    })
    await vi.waitFor(() => expect(lastText(wrapper as VueWrapper)).toBe('尚未走访'))
    await visit('household', household, NOW - 10 * DAY)
    await visit('household', household, NOW - 3 * DAY)
    await vi.waitFor(() =>
      expect(lastText(wrapper as VueWrapper)).toBe(`最近走访：${dateOfMs(NOW - 3 * DAY)}（3 天前）`),
    )

    const place = await records.create('place', {
      gridId: GRID_A,
      type: 'shop',
      name: '横山小卖部',
      address: '横山村口',
      riskLevel: 'low',
    })
    const placeList = mountWith(VisitList, env, {
      props: { targetKind: 'place', targetId: place, canAdd: false },
    }).wrapper as VueWrapper
    await vi.waitFor(() => expect(lastText(placeList)).toBe('尚未巡查'))
    await visit('place', place, NOW - 40 * DAY)
    await vi.waitFor(() =>
      expect(lastText(placeList)).toBe(`最近巡查：${dateOfMs(NOW - 40 * DAY)}（40 天前）`),
    )
  })
})
