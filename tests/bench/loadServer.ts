/**
 * The server side of the load run, in its own process (so the simulated phones' work does not share its event loop):
 * a test server with one grid and one logged-in worker per phone. Prints one JSON line (port, phones) and serves
 * until its parent closes stdin.
 */
import type { AddressInfo } from 'node:net'
import { TEST_AREAS, VILLAGE, addUser, login, square, startTestServer } from '../fixtures/serverHarness.ts'

export interface LoadPhone {
  id: string
  gridId: string
  token: string
}

const devices = Number(process.env.LOAD_DEVICES ?? 500)
// One grid per phone, side by side under one village.
const grids = Array.from({ length: devices }, (_, i) => ({
  id: `${VILLAGE}${String(100 + i).padStart(3, '0')}`,
  level: 'grid' as const,
  name: `负载网格 ${i}`,
  parentId: VILLAGE,
  geometry: square(118 + (i % 40) * 0.02, 29 + Math.floor(i / 40) * 0.02),
  centroid: null,
}))
const server = await startTestServer({ areas: [...TEST_AREAS, ...grids] })
Object.defineProperty(server.clock, 'now', { get: () => Date.now() })
const phones: LoadPhone[] = []
for (const [i, grid] of grids.entries()) {
  await addUser(server, `load${i}`, 'worker', [grid.id])
  const id = `loaddevice-${i}`
  phones.push({ id, gridId: grid.id, token: await login(server, `load${i}`, id) })
}
const listener = server.app.listen(0, '127.0.0.1')
await new Promise((r) => listener.once('listening', r))
process.stdout.write(`${JSON.stringify({ port: (listener.address() as AddressInfo).port, phones })}\n`)

const stop = async () => {
  listener.close()
  await server.close()
  process.exit(0)
}
process.stdin.on('end', () => void stop())
process.stdin.on('close', () => void stop())
process.stdin.resume()
