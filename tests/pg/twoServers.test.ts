/**
 * Two real server processes over one PostgreSQL database, with simulated phones syncing through both at random and
 * at once: creates and edits pushed to either server (a batch sometimes retried on the other), pulls paged by the
 * server seq from either. At the end every phone and the database agree: nothing lost, nothing doubled, every field
 * holding its highest-stamped write, every op answered once per (device, op seq).
 *
 * What this guards: seqs handed out in commit order across processes (else a phone's cursor passes a seq that commits
 * later and the phone never gets that change), serialized read-merge-write (else an edit is lost), and the
 * idempotency records shared by the processes (else a retry through the other server applies twice).
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readableKinds } from '#shared/domain/permissions.ts'
import { maskFieldsFor } from '#shared/domain/privacy.ts'
import type { Fields } from '#shared/sync/merge.ts'
import { createClock, tick, type Clock, type Stamp } from '#shared/sync/hlc.ts'
import {
  PROTOCOL_VERSION,
  pullResponseSchema,
  pushResponseSchema,
  type Op,
  type OpResult,
  type ServerRecord,
} from '#shared/sync/protocol.ts'
import { TEST_PASSWORD_COST, hashPassword } from '../../server/services/password.ts'
import type { PgSyncStore } from '../../server/store/PgSyncStore.ts'
import { decodeOpWrites, decodeStamps } from '../../server/store/storedText.ts'
import { PASSWORD, createOp, editOp, householdFields, pushBody } from '../fixtures/serverHarness.ts'
import { freshSchema, startPgServerProcess, type ServerProcess } from './serverProcess.ts'

const DATABASE_URL = process.env.TEST_DATABASE_URL!
const DEVICES = 6
const STEPS = Number(process.env.CONVERGENCE_STEPS ?? 40)

/** A deterministic PRNG (mulberry32), so a failing run can be repeated with its seed. */
function prng(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const SEED = Number(process.env.CONVERGENCE_SEED ?? Date.now() % 1_000_000)
const random = prng(SEED)
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!

interface Device {
  id: string
  token: string
  clock: Clock
  opSeq: number
  pending: Op[]
  /** Every op the server answered, with the answer. */
  answered: Map<number, OpResult>
  sent: Op[]
  replica: Map<string, ServerRecord>
  cursor: number
  /** Records this device created (editable before any pull brought them). */
  own: Set<string>
}

let schema: Awaited<ReturnType<typeof freshSchema>>
let servers: ServerProcess[] = []
let store: PgSyncStore
let grids: string[] = []

async function api(server: ServerProcess, path: string, init: RequestInit & { token?: string } = {}) {
  const { token, ...rest } = init
  const res = await fetch(`${server.url}${path}`, {
    ...rest,
    headers: {
      'Content-Type': 'application/json',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
  })
  const body: unknown = await res.json()
  if (res.status !== 200)
    throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}\n${server.output()}`)
  return body
}

beforeAll(async () => {
  schema = await freshSchema(DATABASE_URL, 'conv')
  store = schema.store
  // Both start at once on the empty database: one migrates and seeds, the other waits for it (startup lock).
  servers = await Promise.all([startPgServerProcess(schema.url), startPgServerProcess(schema.url)])
  const areas = await store.listAreas()
  const village = areas.find((a) => a.level === 'village')!
  grids = areas.filter((a) => a.parentId === village.id).map((a) => a.id)
  expect(grids.length).toBeGreaterThan(1)
  const passwordHash = await hashPassword(PASSWORD, { cost: TEST_PASSWORD_COST })
  for (const n of [1, 2, 3]) {
    await store.insertUser({
      id: randomUUID(),
      username: `conv_worker${n}`,
      displayName: `并发网格员${n}`,
      role: 'worker',
      areaIds: [village.id],
      passwordHash,
      createdAt: Date.now(),
    })
  }
}, 120_000)

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()))
  await schema?.drop()
})

async function newDevice(n: number): Promise<Device> {
  const id = `conv-device-${n}`
  const body = (await api(pick(servers), '/api/auth/login', {
    method: 'POST',
    body: JSON.stringify({ username: `conv_worker${(n % 3) + 1}`, password: PASSWORD, deviceId: id }),
  })) as { accessToken: string }
  return {
    id,
    token: body.accessToken,
    clock: createClock(id),
    opSeq: 0,
    pending: [],
    answered: new Map(),
    sent: [],
    replica: new Map(),
    cursor: 0,
    own: new Set(),
  }
}

function nextStamp(device: Device): Stamp {
  const next = tick(device.clock, Date.now())
  device.clock = next.clock
  return next.stamp
}

function create(device: Device) {
  const id = randomUUID()
  const fields = householdFields({ gridId: pick(grids), memberCount: 1, notes: `${device.id} 新建` })
  device.pending.push(createOp(++device.opSeq, id, nextStamp(device), fields))
  device.own.add(id)
}

function edit(device: Device) {
  const households = [...device.replica.values()].filter((r) => r.kind === 'household').map((r) => r.id)
  const known = [...households, ...device.own]
  if (known.length === 0) return create(device)
  const id = pick(known)
  const stamps = device.replica.get(id)?.stamps ?? {}
  const fields = { memberCount: Math.floor(random() * 99), notes: `${device.id} 第${device.opSeq + 1}次修改` }
  const base = Object.fromEntries(Object.keys(fields).map((f) => [f, stamps[f] ?? null]))
  device.pending.push(editOp(++device.opSeq, id, nextStamp(device), fields, base))
}

async function pushSome(device: Device, all = false) {
  if (device.pending.length === 0) return
  const ops = device.pending.slice(
    0,
    all ? device.pending.length : 1 + Math.floor(random() * device.pending.length),
  )
  const send = async (server: ServerProcess) =>
    pushResponseSchema.parse(
      await api(server, '/api/sync/push', {
        method: 'POST',
        token: device.token,
        body: JSON.stringify(pushBody(device.id, ops)),
      }),
    ).results
  const first = pick(servers)
  const results = await send(first)
  expect(results.map((r) => r.seq)).toEqual(ops.map((op) => op.seq))
  // A lost answer: the phone sends the same batch again, perhaps to the other server; it must get the same answers.
  if (random() < 0.3) expect(await send(pick(servers))).toEqual(results)
  for (const result of results) {
    expect(result, JSON.stringify(result)).toMatchObject({ status: 'applied' })
    expect(device.answered.has(result.seq)).toBe(false)
    device.answered.set(result.seq, result)
  }
  device.sent.push(...ops)
  device.pending.splice(0, ops.length)
}

async function pullAll(device: Device) {
  for (;;) {
    const page = pullResponseSchema.parse(
      await api(
        pick(servers),
        `/api/sync/pull?deviceId=${device.id}&since=${device.cursor}&limit=25&protocol=${PROTOCOL_VERSION}`,
        { token: device.token },
      ),
    )
    for (const record of page.records) device.replica.set(record.id, record)
    for (const id of page.removed ?? []) device.replica.delete(id)
    expect(page.cursor).toBeGreaterThanOrEqual(device.cursor)
    device.cursor = page.cursor
    if (!page.more) return
  }
}

async function run(device: Device) {
  for (let step = 0; step < STEPS; step++) {
    const roll = random()
    if (roll < 0.25) create(device)
    else if (roll < 0.55) edit(device)
    else if (roll < 0.8) await pushSome(device)
    else await pullAll(device)
  }
}

describe('two server processes over one PostgreSQL database', () => {
  it(`converge with ${DEVICES} phones syncing through both at random (seed ${SEED})`, async () => {
    const seeded = await store.kysely.selectFrom('records').select('id').execute()
    const countRecords = async () =>
      (
        await store.kysely
          .selectFrom('records')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n
    const devices: Device[] = []
    for (let n = 0; n < DEVICES; n++) devices.push(await newDevice(n))
    await Promise.all(devices.map(run))
    await Promise.all(devices.map((d) => pushSome(d, true)))
    // Everything is pushed: one more pull each brings the phone up to date.
    await Promise.all(devices.map(pullAll))

    const db = store.kysely
    const sent = devices.flatMap((d) => d.sent)
    const creates = sent.filter((op) => op.type === 'put' && op.create)
    expect(creates.length).toBeGreaterThan(0)
    const ids = [...new Set(sent.map((op) => op.id))]
    const rows = await db.selectFrom('records').selectAll().where('id', 'in', ids).execute()
    // Nothing lost, nothing doubled: every created record is there once, beside the demo records edited too.
    expect(rows.length).toBe(ids.length)
    const seededIds = new Set(seeded.map((r) => r.id))
    expect(new Set(rows.map((r) => r.id).filter((id) => !seededIds.has(id)))).toEqual(
      new Set(creates.map((op) => op.id)),
    )
    expect(await countRecords()).toBe(seeded.length + creates.length)

    // Each field holds its highest-stamped write.
    const expected = new Map<string, Map<string, { stamp: string; value: unknown }>>()
    for (const op of sent) {
      if (op.type !== 'put') continue
      const fields = expected.get(op.id) ?? new Map<string, { stamp: string; value: unknown }>()
      expected.set(op.id, fields)
      for (const [field, value] of Object.entries(op.fields)) {
        const held = fields.get(field)
        if (!held || held.stamp < op.stamp) fields.set(field, { stamp: op.stamp, value })
      }
    }
    for (const row of rows) {
      const fields = JSON.parse(row.fields) as Record<string, unknown>
      const stamps = decodeStamps(row.stamps)
      for (const [field, { stamp, value }] of expected.get(row.id)!) {
        expect(fields[field], `${row.id}.${field}`).toEqual(value)
        expect(stamps[field]).toBe(stamp)
      }
    }

    // Every field write kept once, every op answered once per (device, op seq), across both processes.
    const opRows = await db
      .selectFrom('op_writes')
      .select('writes')
      .where(
        'device_id',
        'in',
        devices.map((d) => d.id),
      )
      .execute()
    const writes = opRows.reduce((n, row) => n + decodeOpWrites(row.writes).length, 0)
    expect(writes).toBe(
      sent.reduce((n, op) => n + (op.type === 'put' ? Object.keys(op.fields).length : 0), 0),
    )
    for (const device of devices) {
      const applied = await db
        .selectFrom('applied_ops')
        .select(['op_seq', 'record_id'])
        .where('device_id', '=', device.id)
        .orderBy('op_seq')
        .execute()
      expect(applied).toEqual(
        [...device.sent].sort((a, b) => a.seq - b.seq).map((op) => ({ op_seq: op.seq, record_id: op.id })),
      )
      expect([...device.answered.keys()].sort((a, b) => a - b)).toEqual(
        Array.from({ length: device.opSeq }, (_, i) => i + 1),
      )
    }

    // Seqs: unique, never beyond the counter; every phone holds exactly what the database holds for it.
    const all = await db.selectFrom('records').selectAll().orderBy('seq').execute()
    expect(new Set(all.map((r) => r.seq)).size).toBe(all.length)
    const state = await db.selectFrom('server_state').select('seq').executeTakeFirstOrThrow()
    expect(state.seq).toBeGreaterThanOrEqual(all.at(-1)!.seq)
    const kinds: readonly string[] = readableKinds('worker')
    const visible = all.filter((r) => grids.includes(r.grid_id) && kinds.includes(r.kind))
    for (const device of devices) {
      expect(device.cursor).toBe(visible.at(-1)!.seq)
      expect([...device.replica.keys()].sort()).toEqual(visible.map((r) => r.id).sort())
      for (const row of visible) {
        const held = device.replica.get(row.id)!
        expect(held.seq, `${device.id} ${row.id}`).toBe(row.seq)
        expect(held.stamps).toEqual(decodeStamps(row.stamps))
        // As a worker sees them (ID numbers masked).
        expect(held.fields).toEqual(maskFieldsFor('worker', row.kind, JSON.parse(row.fields) as Fields))
      }
    }
  }, 300_000)
})
