/**
 * The page's side of the clustering: requests go to a web worker, so indexing 100,000 points never blocks panning.
 * Where there is no Worker (jsdom/happy-dom tests, or a worker that fails to start) the same handler runs in the page,
 * asynchronously, so callers cannot tell the difference. A worker that dies switches to the in-page engine: the
 * requests it held fail (`lost` tells the caller to load the points again).
 */
import { ClusterEngine } from './clusterEngine.ts'
import { replyTo } from './clusterProtocol.ts'
import type { ClusterEnvelope, ClusterReply, ClusterRequest, ClusterResponse } from './clusterProtocol.ts'

export interface ClusterClient {
  request<T extends ClusterRequest>(request: T): Promise<ClusterResponse<T['type']>>
  /** Whether a real worker answers (false: the in-page fallback). */
  readonly inWorker: boolean
  /** True once a worker died: the in-page engine that replaced it has no points until they are loaded again. */
  readonly lost: boolean
  dispose(): void
}

export type WorkerFactory = () => Worker

export const defaultWorkerFactory: WorkerFactory = () =>
  new Worker(new URL('./clusterWorker.ts', import.meta.url), { type: 'module', name: 'gridpatrol-cluster' })

export function createClusterClient(
  factory: WorkerFactory | null = typeof Worker === 'undefined' ? null : defaultWorkerFactory,
): ClusterClient {
  let nextId = 1
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  const settle = (reply: ClusterReply) => {
    const pending = waiting.get(reply.id)
    if (!pending) return
    waiting.delete(reply.id)
    if ('error' in reply) pending.reject(new Error(reply.error))
    else pending.resolve(reply.result)
  }

  let worker: Worker | null = null
  try {
    worker = factory?.() ?? null
  } catch {
    worker = null
  }
  let engine: ClusterEngine | null = worker ? null : new ClusterEngine()
  let lost = false
  if (worker) {
    worker.onmessage = (event: MessageEvent<ClusterReply>) => settle(event.data)
    worker.onerror = () => {
      worker?.terminate()
      worker = null
      lost = true
      for (const pending of waiting.values()) pending.reject(new Error('cluster worker failed'))
      waiting.clear()
    }
  }

  function post(envelope: ClusterEnvelope) {
    if (worker) worker.postMessage(envelope)
    else {
      const local = (engine ??= new ClusterEngine())
      // Answer on a later task, as a worker would.
      setTimeout(() => settle(replyTo(local, envelope)), 0)
    }
  }

  return {
    get inWorker() {
      return worker !== null
    },
    get lost() {
      return lost
    },
    request<T extends ClusterRequest>(request: T) {
      const id = nextId++
      return new Promise<ClusterResponse<T['type']>>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (value: unknown) => void, reject })
        post({ id, request })
      })
    },
    dispose() {
      worker?.terminate()
      worker = null
      engine = null
      for (const pending of waiting.values()) pending.reject(new Error('cluster client disposed'))
      waiting.clear()
    },
  }
}
