/** The clustering web worker: a thin adapter around ClusterEngine (all logic lives in clusterProtocol.ts). */
import { ClusterEngine } from './clusterEngine.ts'
import { replyTo } from './clusterProtocol.ts'
import type { ClusterEnvelope, ClusterReply } from './clusterProtocol.ts'

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<ClusterEnvelope>) => void) | null
  postMessage(message: ClusterReply): void
}
const engine = new ClusterEngine()
scope.onmessage = (event) => scope.postMessage(replyTo(engine, event.data))
