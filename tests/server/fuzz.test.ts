/**
 * Fuzzing every API route the app registers (found from Express's own router, so a new route is fuzzed without
 * being listed): generated malformed, oversized and hostile requests — wrong types, deep or huge values, script and
 * SQL fragments, odd content types, bad path parameters, anonymous, garbage and real tokens of every role.
 * Every answer must be below 500, every refusal must say why (a JSON error with a code and a message), and nothing
 * may be stored: the data tables hold exactly what they held before. `FUZZ_RUNS` sets the number of requests
 * (the bench runs ≥10,000).
 */
import fc from 'fast-check'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  COUNTY,
  GRID_A,
  addUser,
  login,
  startTestServer,
  type TestServer,
} from '../fixtures/serverHarness.ts'
import { registeredRoutes } from '../fixtures/routes.ts'

const RUNS = Number(process.env.FUZZ_RUNS ?? 1500)
/** Tables a refused request must leave alone (sessions and login failures are allowed to move). */
const DATA_TABLES = [
  'records',
  'op_writes',
  'conflicts',
  'conflict_resolutions',
  'record_exits',
  'applied_ops',
  'areas',
  'users',
  'user_areas',
  'photos',
  'audit_log',
] as const
/** Routes that legitimately change something for any well-formed caller: fuzzed anonymously only. */
const SESSION_ENDING = new Set(['POST /api/auth/logout'])

const HOSTILE = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  "' OR '1'='1",
  "'; DROP TABLE records; --",
  '../../../etc/passwd',
  '\u0000',
  '${7*7}{{7*7}}',
  '\uFEFF\u202E',
  '𠮷'.repeat(300),
  'x'.repeat(70_000),
  '330523101001001',
  '01900000-0000-7000-8000-000000000001',
  'household',
  '__proto__',
  'constructor',
]
const KNOWN_KEYS = [
  'username',
  'password',
  'deviceId',
  'protocol',
  'ops',
  'kind',
  'id',
  'fields',
  'gridId',
  'name',
  'role',
  'areaIds',
  'field',
  'parentId',
  'level',
  'geometry',
  'refreshToken',
  'decision',
  'recordId',
  'loserStamp',
  'displayName',
  'disabled',
  'type',
  'seq',
  'stamp',
  'base',
  'create',
  '__proto__',
]

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(...HOSTILE),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
)
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(text, fc.constantFrom(...KNOWN_KEYS)), tie('value'), { maxKeys: 5 }),
  ),
}))
/** Objects shaped like the API's bodies (its field names) with hostile or mistyped values. */
const nearValid = fc.dictionary(fc.constantFrom(...KNOWN_KEYS), value, { minKeys: 1, maxKeys: 6 })
const body = fc.oneof(
  nearValid,
  value,
  fc.string({ maxLength: 200 }).map((raw) => ({ raw })),
  fc.constant({ raw: '{"username": "a", ' }),
  fc.constant({ raw: `[${'['.repeat(5_000)}` }),
)
const segment = fc.oneof(
  text,
  fc.constantFrom('household', 'incident', 'person', 'photo', 'a'.repeat(64), '..', '%2e%2e', ''),
  fc.uuid(),
)

interface Caller {
  name: string
  header: Record<string, string>
}

let server: TestServer
let routes: string[]
const callers: Caller[] = []

/** Rows per data table, read through the store's query builder (the same on SQLite and PostgreSQL). */
async function tableCounts(): Promise<Record<string, number>> {
  const db = server.store.kysely
  const counts: Record<string, number> = {}
  for (const table of DATA_TABLES) {
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    counts[table] = row.n
  }
  expect(Object.keys(counts)).toContain('records')
  return counts
}

beforeAll(async () => {
  server = await startTestServer()
  routes = registeredRoutes(server.app)
  callers.push(
    { name: 'anonymous', header: {} },
    { name: 'garbage token', header: { Authorization: 'Bearer x.y.z' } },
  )
  for (const role of ['admin', 'leader', 'worker', 'handler'] as const) {
    await addUser(server, `fuzz_${role}`, role, role === 'admin' ? [COUNTY] : [GRID_A])
    const token = await login(server, `fuzz_${role}`, `device-fuzz-${role}`)
    callers.push({ name: role, header: { Authorization: `Bearer ${token}` } })
  }
})
afterAll(() => server.close())

describe('fuzzing every API route', () => {
  it(`answers ${RUNS} hostile requests below 500, says why it refuses, and stores nothing`, async () => {
    expect(routes.length).toBeGreaterThan(20)
    const before = await tableCounts()
    const seen = new Set<string>()
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.array(segment, { minLength: 4, maxLength: 4 }),
        fc.dictionary(fc.oneof(text, fc.constantFrom(...KNOWN_KEYS, 'since', 'limit', 'recordId')), text, {
          maxKeys: 4,
        }),
        body,
        fc.constantFrom(
          'application/json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/json',
        ),
        fc.nat(callers.length - 1),
        async (route, segments, query, payload, contentType, callerIndex) => {
          const [method, pattern] = route.split(' ') as [string, string]
          const caller = SESSION_ENDING.has(route) ? callers[0]! : callers[callerIndex]!
          let i = 0
          const path = pattern
            .replace(/[{}]/g, '')
            .replace(/[:*][A-Za-z_]+/g, () => encodeURIComponent(segments[i++ % segments.length]!))
          seen.add(route)
          let req = request(server.app)[method.toLowerCase() as 'get'](path).set(caller.header).query(query)
          if (method !== 'GET' && method !== 'HEAD') {
            const raw =
              typeof payload === 'object' && payload !== null && 'raw' in payload ? payload.raw : null
            req = req.set('Content-Type', contentType).send(raw ?? JSON.stringify(payload))
          }
          const res = await req
          const what = `${caller.name} ${method} ${path.slice(0, 120)} → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`
          expect(res.status, what).toBeLessThan(500)
          // 414/431 come from Node's HTTP parser before the app sees the request: the status is the reason.
          if (res.status >= 400 && method !== 'HEAD' && res.status !== 414 && res.status !== 431) {
            expect(typeof res.body?.error?.code, what).toBe('string')
            expect(String(res.body?.error?.message ?? '').length, what).toBeGreaterThan(0)
          }
        },
      ),
      { numRuns: RUNS },
    )
    expect(await tableCounts()).toEqual(before)
    // Every route was reached at least once (with enough runs).
    if (RUNS >= routes.length * 20) expect([...seen].sort()).toEqual(routes)
  }, 300_000)
})
