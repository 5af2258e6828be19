import { defineStore } from 'pinia'
import { shallowReactive } from 'vue'
import type { Handler } from '#shared/schemas/api.ts'
import { AuthError } from '../sync/ports.ts'
import { getServices } from './services.ts'
import { useSessionStore } from './useSessionStore.ts'

export type HandlersOutcome =
  { ok: true; handlers: Handler[]; cached: boolean } | { ok: false; reason: 'offline' | 'failed' }

/**
 * The handlers (责任单位) a leader may dispatch a grid's incident to. Asked of the server when online; the last answer
 * per grid is kept in memory for the session, so a dispatch picker still works when the signal drops afterwards.
 */
export const useHandlersStore = defineStore('handlers', () => {
  const services = getServices()
  /** gridId → the last list the server gave. */
  const byGrid = shallowReactive(new Map<string, Handler[]>())

  async function load(gridId: string): Promise<HandlersOutcome> {
    const cached = byGrid.get(gridId)
    if (!services.isOnline())
      return cached ? { ok: true, handlers: cached, cached: true } : { ok: false, reason: 'offline' }
    try {
      const handlers = await services.workflow.handlers(gridId)
      byGrid.set(gridId, handlers)
      return { ok: true, handlers, cached: false }
    } catch (error) {
      if (error instanceof AuthError) useSessionStore().markNeedsReauth()
      return cached ? { ok: true, handlers: cached, cached: true } : { ok: false, reason: 'failed' }
    }
  }

  /** A handler's name, if any list seen this session names them. */
  function nameOf(id: string): string | undefined {
    for (const list of byGrid.values()) {
      const found = list.find((handler) => handler.id === id)
      if (found) return found.name
    }
    return undefined
  }

  return { byGrid, load, nameOf }
})
