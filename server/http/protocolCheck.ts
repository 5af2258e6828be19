import { PROTOCOL_VERSION } from '#shared/sync/protocol.ts'
import { HttpError } from './HttpError.ts'

/** A device speaking another protocol version gets 409 before its request is even parsed: it must update. */
export function checkProtocol(value: unknown): void {
  const version =
    typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN
  if (Number.isFinite(version) && version !== PROTOCOL_VERSION) {
    throw new HttpError(
      409,
      'protocol_version',
      `同步协议版本不符：应用为 ${version}，服务器为 ${PROTOCOL_VERSION}，请更新应用`,
      'protocol',
    )
  }
}
