/**
 * Fault: the server process is killed (SIGKILL: no shutdown code runs) while a push is in flight, then restarted on
 * the same data directory, and the device sends the same batch again, as its outbox would. Whatever the moment of the
 * kill (before, during or after the batch's transaction), the server must end with every op applied exactly once:
 * nothing lost, nothing doubled. The SQLite file is opened with WAL and synchronous=FULL, so a batch is all or none.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { formatStamp } from '#shared/sync/hlc.ts'
import { loginResponseSchema } from '#shared/schemas/api.ts'
import {
  PROTOCOL_VERSION,
  pullResponseSchema,
  pushResponseSchema,
  type Op,
  type ServerRecord,
} from '#shared/sync/protocol.ts'
import { startServer, type RunningServer } from './harness.ts'

const ROUNDS = Number(process.env.FAULT_ROUNDS ?? 4)
const BATCH = 500
const DEVICE = 'crashtestdevice01'

let server: RunningServer | null = null
afterAll(async () => {
  await server?.stop()
})

async function logIn(url: string, username: string, password: string) {
  const response = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password, deviceId: DEVICE }),
  })
  if (!response.ok) throw new Error(`login failed: ${response.status}`)
  return loginResponseSchema.parse(await response.json())
}

/** A batch of new households in the grid, stamped by this device, with op seqs from `firstSeq`. */
function batchOf(round: number, firstSeq: number, gridId: string): Op[] {
  return Array.from({ length: BATCH }, (_, i) => {
    const n = round * BATCH + i
    const stamp = formatStamp({ ms: Date.now(), counter: i, node: DEVICE })
    const fields = {
      gridId,
      address: `递铺街道横山村${n}号`,
      housing: 'owned',
      headName: `户主${n}`,
    }
    return {
      type: 'put',
      seq: firstSeq + i,
      kind: 'household',
      id: `01900000-0000-7000-8000-${String(n + 1).padStart(12, '0')}`,
      stamp,
      base: Object.fromEntries(Object.keys(fields).map((field) => [field, null])),
      create: true,
      fields,
    } satisfies Op
  })
}

function push(url: string, token: string, ops: Op[], signal?: AbortSignal) {
  return fetch(`${url}/api/sync/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ protocol: PROTOCOL_VERSION, deviceId: DEVICE, ops }),
    ...(signal ? { signal } : {}),
  })
}

async function pullAll(url: string, token: string): Promise<ServerRecord[]> {
  const records: ServerRecord[] = []
  let since = 0
  for (;;) {
    const query = new URLSearchParams({
      deviceId: DEVICE,
      since: String(since),
      limit: '1000',
      protocol: String(PROTOCOL_VERSION),
    })
    const response = await fetch(`${url}/api/sync/pull?${query}`, {
      headers: { authorization: `Bearer ${token}` },
    })
    const page = pullResponseSchema.parse(await response.json())
    records.push(...page.records)
    since = page.cursor
    if (!page.more) return records
  }
}

describe('the server killed in the middle of a push', () => {
  it(`keeps every op exactly once after a restart and a replay (${ROUNDS} rounds of ${BATCH})`, async () => {
    server = await startServer()
    const worker = server.logins.find((login) => login.role === 'worker')!
    let session = await logIn(server.url, worker.username, worker.password)
    const gridId = session.user.areaIds[0]!
    const before = new Set((await pullAll(server.url, session.accessToken)).map((record) => record.id))
    const sent: Op[] = []
    /** Per round: what the first push got (status, or `cut`) and how many of its records had landed. */
    const outcomes: string[] = []

    // How long an undisturbed batch takes here, so that the kills land before, during and after the transaction.
    const calibration = batchOf(ROUNDS, ROUNDS * BATCH + 1, gridId)
    sent.push(...calibration)
    const started = performance.now()
    expect((await push(server.url, session.accessToken, calibration)).status).toBe(200)
    const duration = performance.now() - started

    for (let round = 0; round < ROUNDS; round++) {
      const ops = batchOf(round, round * BATCH + 1, gridId)
      sent.push(...ops)
      // Kill at a different moment each round: while the batch is applied, or just after.
      const inFlight = push(server.url, session.accessToken, ops).then(
        (response) => response.status,
        () => 'cut' as const,
      )
      await new Promise((resolve) => setTimeout(resolve, duration * [0.3, 0.6, 0.9, 1.5][round % 4]!))
      await server.kill()
      server = await startServer({}, { dataDir: server.dataDir })
      session = await logIn(server.url, worker.username, worker.password)
      // A batch is one transaction: after the crash the server holds all of it or none of it.
      const ids = new Set(ops.map((op) => op.id))
      const landed = (await pullAll(server.url, session.accessToken)).filter((record) => ids.has(record.id))
      expect([0, BATCH]).toContain(landed.length)
      outcomes.push(`${String(await inFlight)}/${landed.length}`)

      // The device does not know what happened: it sends the same batch again and must get an answer per op.
      const replay = await push(server.url, session.accessToken, ops)
      expect(replay.status).toBe(200)
      const answers = pushResponseSchema.parse(await replay.json()).results
      expect(answers.map((answer) => [answer.seq, answer.status])).toEqual(
        ops.map((op) => [op.seq, 'applied']),
      )
    }

    console.info(`push outcomes at the kill (answer/landed): ${outcomes.join(', ')}`)
    const after = (await pullAll(server.url, session.accessToken)).filter((record) => !before.has(record.id))
    expect(after).toHaveLength(sent.length)
    expect(new Set(after.map((record) => record.id)).size).toBe(sent.length)
    const byId = new Map(after.map((record) => [record.id, record]))
    for (const op of sent) {
      if (op.type !== 'put') continue
      expect(byId.get(op.id)?.fields).toMatchObject(op.fields)
      expect(byId.get(op.id)?.stamps['headName']).toBe(op.stamp)
    }
  }, 180_000)
})
