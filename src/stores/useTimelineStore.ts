import { defineStore } from 'pinia'
import type { Timeline } from '#shared/schemas/timeline.ts'
import { AuthError, RequestError, TransportError } from '../sync/ports.ts'
import { getServices } from './services.ts'
import { useSessionStore } from './useSessionStore.ts'

export type TimelineOutcome =
  { ok: true; timeline: Timeline } | { ok: false; reason: 'offline' | 'not_found' | 'failed' }

/**
 * A record's timeline (全流程留痕), read from the server when online. Nothing is kept on the device: the server's
 * history is the whole truth (it includes other devices' writes), and a phone holds only current records.
 */
export const useTimelineStore = defineStore('timeline', () => {
  const services = getServices()

  async function load(recordId: string): Promise<TimelineOutcome> {
    if (!services.isOnline()) return { ok: false, reason: 'offline' }
    try {
      return { ok: true, timeline: await services.workflow.timeline(recordId) }
    } catch (error) {
      if (error instanceof AuthError) useSessionStore().markNeedsReauth()
      // A record not pushed yet is unknown to the server.
      if (error instanceof RequestError && error.status === 404) return { ok: false, reason: 'not_found' }
      // The server answered with an error (or refused): failed; no answer at all: the signal is gone.
      const answered =
        error instanceof RequestError || (error instanceof TransportError && error.status !== undefined)
      return { ok: false, reason: answered ? 'failed' : 'offline' }
    }
  }

  return { load }
})
