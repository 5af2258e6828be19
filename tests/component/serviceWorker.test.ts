import { afterEach, describe, expect, it, vi } from 'vitest'
import { defineComponent } from 'vue'
import { mount } from '@vue/test-utils'
import {
  useServiceWorker,
  type ServiceWorkerOptions,
  type WorkboxLike,
} from '../../src/composables/useServiceWorker.ts'
import { createAppI18n } from '../../src/i18n/index.ts'

class FakeWorkbox implements WorkboxLike {
  listeners = new Map<string, Array<() => void>>()
  registered = 0
  skipWaiting = vi.fn()
  addEventListener(type: string, listener: () => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener])
  }
  async register() {
    this.registered++
    return undefined
  }
  messageSkipWaiting() {
    this.skipWaiting()
  }
  emit(type: string) {
    for (const listener of this.listeners.get(type) ?? []) listener()
  }
}

function setup(options: ServiceWorkerOptions) {
  let api!: ReturnType<typeof useServiceWorker>
  const Host = defineComponent({
    setup() {
      api = useServiceWorker(options)
      return () => null
    },
  })
  mount(Host, { global: { plugins: [createAppI18n('zh-CN')] } })
  return api
}

afterEach(() => {
  document.body.innerHTML = ''
})

describe('useServiceWorker', () => {
  it('asks before updating, then skips waiting and reloads once the new worker controls the page', async () => {
    const wb = new FakeWorkbox()
    const reload = vi.fn()
    const confirmUpdate = vi.fn(async () => true)
    const sw = setup({ enabled: true, createWorkbox: () => wb, confirmUpdate, reload })
    await sw.register()
    expect(wb.registered).toBe(1)

    wb.emit('waiting')
    expect(sw.needRefresh.value).toBe(true)
    await vi.waitFor(() => expect(wb.skipWaiting).toHaveBeenCalledTimes(1))
    expect(confirmUpdate).toHaveBeenCalledTimes(1)
    expect(reload).not.toHaveBeenCalled()
    wb.emit('controlling')
    expect(reload).toHaveBeenCalledTimes(1)
  })

  it('does nothing when the user says later', async () => {
    const wb = new FakeWorkbox()
    const reload = vi.fn()
    const confirmUpdate = vi.fn(async () => false)
    const sw = setup({ enabled: true, createWorkbox: () => wb, confirmUpdate, reload })
    await sw.register()
    wb.emit('waiting')
    await vi.waitFor(() => expect(confirmUpdate).toHaveBeenCalled())
    await Promise.resolve()
    wb.emit('controlling')
    expect(wb.skipWaiting).not.toHaveBeenCalled()
    expect(reload).not.toHaveBeenCalled()
  })

  it('registers nothing outside production builds', async () => {
    const createWorkbox = vi.fn(() => new FakeWorkbox())
    const sw = setup({ createWorkbox })
    await sw.register()
    expect(createWorkbox).not.toHaveBeenCalled()
  })
})
