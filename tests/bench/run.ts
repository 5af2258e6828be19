/**
 * `npm run bench`: benchmarks, not tests. Prints a table with the machine and date; the README keeps the figures.
 * Each figure is the median of a few runs on a fresh temporary SQLite file, over HTTP on 127.0.0.1.
 */
import { cpus, totalmem } from 'node:os'
import type { AddressInfo } from 'node:net'
import {
  startTestServer,
  addUser,
  login,
  createOp,
  householdFields,
  stamp,
  pushBody,
} from '../fixtures/serverHarness.ts'
import { PROTOCOL_VERSION, MAX_PUSH_OPS, type Op } from '#shared/sync/protocol.ts'

const RECORDS = Number(process.env.BENCH_RECORDS ?? 10_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)

interface Row {
  name: string
  value: string
  goal: string
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const uuid = (i: number) => `0190a000-0000-7000-8000-${String(i).padStart(12, '0')}`

async function oneRun(): Promise<{
  ingest: number
  pull: number
  wirePushPerRecord: number
  wirePullPerRecord: number
}> {
  const server = await startTestServer()
  server.clock.now = Date.now()
  const listener = server.app.listen(0, '127.0.0.1')
  await new Promise((r) => listener.once('listening', r))
  const base = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`
  try {
    await addUser(server, 'bench')
    const deviceId = 'bench-device-1'
    const token = await login(server, 'bench', deviceId)
    const ops: Op[] = Array.from({ length: RECORDS }, (_, i) =>
      createOp(
        i + 1,
        uuid(i + 1),
        stamp(i + 1, deviceId),
        householdFields({ address: `天荒坪镇余村竹海路 ${i} 号` }),
      ),
    )
    let pushBytes = 0
    const t0 = performance.now()
    for (let i = 0; i < ops.length; i += MAX_PUSH_OPS) {
      const body = JSON.stringify(pushBody(deviceId, ops.slice(i, i + MAX_PUSH_OPS)))
      pushBytes += Buffer.byteLength(body)
      const response = await fetch(`${base}/api/sync/push`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
      })
      if (!response.ok) throw new Error(`push failed: ${response.status} ${await response.text()}`)
      await response.arrayBuffer()
    }
    const ingest = RECORDS / ((performance.now() - t0) / 1000)

    let pullBytes = 0
    const t1 = performance.now()
    for (let since = 0, more = true; more;) {
      const query = `deviceId=bench-device-2&since=${since}&limit=1000&protocol=${PROTOCOL_VERSION}`
      const response = await fetch(`${base}/api/sync/pull?${query}`, {
        headers: { authorization: `Bearer ${token}` },
      })
      const text = await response.text()
      pullBytes += Buffer.byteLength(text)
      const page = JSON.parse(text) as { cursor: number; more: boolean }
      since = page.cursor
      more = page.more
    }
    const pull = RECORDS / ((performance.now() - t1) / 1000)
    return { ingest, pull, wirePushPerRecord: pushBytes / RECORDS, wirePullPerRecord: pullBytes / RECORDS }
  } finally {
    listener.close()
    await server.close()
  }
}

const runs = []
for (let i = 0; i < RUNS; i++) runs.push(await oneRun())
const rows: Row[] = [
  {
    name: `server ingest, HTTP push of ${RECORDS} new households (batches of ${MAX_PUSH_OPS})`,
    value: `${Math.round(median(runs.map((r) => r.ingest)))} changes/s`,
    goal: '≥20,000 (proof issue)',
  },
  {
    name: `server pull, ${RECORDS} households in pages of 1000 (HTTP, no device)`,
    value: `${Math.round(median(runs.map((r) => r.pull)))} records/s`,
    goal: '',
  },
  {
    name: 'bytes on the wire per household, push (uncompressed JSON)',
    value: `${Math.round(median(runs.map((r) => r.wirePushPerRecord)))} B`,
    goal: '',
  },
  {
    name: 'bytes on the wire per household, pull (uncompressed JSON)',
    value: `${Math.round(median(runs.map((r) => r.wirePullPerRecord)))} B`,
    goal: '',
  },
]
const machine = `${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`
console.log(
  `\nGridPatrol bench — ${new Date().toISOString().slice(0, 10)} — ${machine} — median of ${RUNS} runs\n`,
)
console.log('| benchmark | result | goal |\n|---|---|---|')
for (const row of rows) console.log(`| ${row.name} | ${row.value} | ${row.goal} |`)
