import { v4 as uuidv4, v7 as uuidv7 } from 'uuid'
import { childCode } from '#shared/domain/areaCodes.ts'
import { idCheckCharacter } from '#shared/domain/idNumber.ts'
import type {
  Household,
  Incident,
  Person,
  Place,
  Visit,
  INCIDENT_CATEGORIES,
} from '#shared/schemas/records.ts'
import { PLACE_TYPES } from '#shared/schemas/records.ts'
import type { RecordKind } from '#shared/schemas/records.ts'
import { createClock, tick } from '#shared/sync/hlc.ts'
import type { Clock, Stamp } from '#shared/sync/hlc.ts'
import type { Op } from '#shared/sync/protocol.ts'
import { stepPatch, transitionFor } from '#shared/domain/workflow.ts'
import type { StepInput, WorkflowIncident } from '#shared/domain/workflow.ts'
import { hashPassword } from './services/password.ts'
import { createSyncService } from './services/syncService.ts'
import type { Area, GeoPolygon, Role, SyncStore, User } from './store/SyncStore.ts'

export const SEED_DEVICE = 'seed-device'

export interface NewUserInput {
  username: string
  password: string
  role: Role
  areaIds: string[]
  displayName: string
  /** Defaults: a random UUID, a random salt, Date.now(). */
  id?: string
  salt?: Uint8Array
  createdAt?: number
}

/** Create a user with a known password (the seed, tests, later the admin screens). */
export async function createUser(store: SyncStore, input: NewUserInput): Promise<User> {
  const user: User = {
    id: input.id ?? uuidv4(),
    username: input.username,
    displayName: input.displayName,
    role: input.role,
    areaIds: [...input.areaIds],
  }
  const passwordHash = await hashPassword(input.password, input.salt ? { salt: input.salt } : {})
  await store.insertUser({ ...user, passwordHash, createdAt: input.createdAt ?? Date.now() })
  return user
}

export interface DemoLogin {
  username: string
  password: string
  role: Role
  displayName: string
  areaIds: string[]
}

export interface SeedResult {
  seeded: boolean
  logins: DemoLogin[]
}

export interface SeedOptions {
  now: number
  /** Cryptographic random bytes (node:crypto randomBytes): passwords, salts and user ids come from them. */
  random: (size: number) => Uint8Array
}

export const DEMO_COUNTY = '330523'
const COUNTY_NAME = '安吉县'

/** Small deterministic PRNG (mulberry32) for the demo data's layout, so every install gets the same county. */
function layoutRandom(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1))
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T
  const weighted = <T>(items: readonly (readonly [T, number])[]): T => {
    let r = next() * items.reduce((sum, [, w]) => sum + w, 0)
    for (const [item, w] of items) if ((r -= w) < 0) return item
    return items[items.length - 1]![0]
  }
  const bytes = (size: number) => Uint8Array.from({ length: size }, () => int(0, 255))
  return { next, int, pick, weighted, bytes, chance: (p: number) => next() < p }
}
type Rng = ReturnType<typeof layoutRandom>

interface GridPlan {
  id: string
  name: string
  villageName: string
  townName: string
  townId: string
  /** Its lattice cell: [west, south, east, north]. */
  cell: [number, number, number, number]
  roads: string[]
}

const CN_NUMBERS = ['一', '二', '三', '四', '五', '六', '七', '八', '九']

/** A county of two towns, three villages and eight grids in the hills of 安吉县 (codes illustrative). */
const TOWNS = [
  {
    index: 102,
    name: '天荒坪镇',
    villages: [
      {
        name: '余村',
        roads: ['竹海路', '两山路', '矿山路'],
        cells: [
          [0, 0],
          [1, 0],
          [0, 1],
        ],
      },
      {
        name: '大溪村',
        roads: ['大溪路', '溪口路', '茶园路'],
        cells: [
          [2, 0],
          [1, 1],
          [2, 1],
        ],
      },
    ],
  },
  {
    index: 201,
    name: '山川乡',
    villages: [
      {
        name: '高家堂村',
        roads: ['高家堂路', '竹林路'],
        cells: [
          [3, 0],
          [3, 1],
        ],
      },
    ],
  },
] as const

const WEST = 119.52
const NORTH = 30.75
const CELL_W = 0.065
const CELL_H = 0.1

function planAreas(rng: Rng): { areas: Area[]; grids: GridPlan[] } {
  const areas: Area[] = [
    { id: DEMO_COUNTY, level: 'county', name: COUNTY_NAME, parentId: null, geometry: null, centroid: null },
  ]
  const grids: GridPlan[] = []
  for (const town of TOWNS) {
    const townId = childCode(DEMO_COUNTY, town.index)
    areas.push({
      id: townId,
      level: 'town',
      name: town.name,
      parentId: DEMO_COUNTY,
      geometry: null,
      centroid: null,
    })
    town.villages.forEach((village, v) => {
      const villageId = childCode(townId, v + 1)
      areas.push({
        id: villageId,
        level: 'village',
        name: village.name,
        parentId: townId,
        geometry: null,
        centroid: null,
      })
      village.cells.forEach(([col, row], g) => {
        const west = WEST + col * CELL_W
        const north = NORTH - row * CELL_H
        const cell: GridPlan['cell'] = [west, north - CELL_H, west + CELL_W, north]
        const geometry = quadInCell(cell, rng)
        const ring = geometry.coordinates[0]!.slice(0, 4)
        const id = childCode(villageId, g + 1)
        const name = `${village.name}第${CN_NUMBERS[g]}网格`
        areas.push({
          id,
          level: 'grid',
          name,
          parentId: villageId,
          geometry,
          centroid: {
            lat: round(ring.reduce((s, p) => s + p[1], 0) / 4),
            lng: round(ring.reduce((s, p) => s + p[0], 0) / 4),
          },
        })
        grids.push({
          id,
          name,
          villageName: village.name,
          townName: town.name,
          townId,
          cell,
          roads: [...village.roads],
        })
      })
    })
  }
  return { areas, grids }
}

const round = (x: number) => Math.round(x * 1e6) / 1e6

/**
 * A convex quad inside its cell: each corner moved inward by up to 15% of the cell, so neighbouring grids never
 * overlap and the cell's central 70% box lies inside the quad (points are placed there).
 */
function quadInCell([w, s, e, n]: GridPlan['cell'], rng: Rng): GeoPolygon {
  const dx = () => rng.next() * 0.15 * (e - w)
  const dy = () => rng.next() * 0.15 * (n - s)
  const corners: [number, number][] = [
    [w + dx(), s + dy()],
    [e - dx(), s + dy()],
    [e - dx(), n - dy()],
    [w + dx(), n - dy()],
  ].map(([x, y]) => [round(x!), round(y!)] as [number, number])
  return { type: 'Polygon', coordinates: [[...corners, corners[0]!]] }
}

function pointIn([w, s, e, n]: GridPlan['cell'], rng: Rng) {
  const margin = 0.16
  return {
    lat: round(s + (n - s) * (margin + rng.next() * (1 - 2 * margin))),
    lng: round(w + (e - w) * (margin + rng.next() * (1 - 2 * margin))),
    accuracy: rng.int(3, 30),
  }
}

const SURNAMES = [
  '潘',
  '陈',
  '王',
  '张',
  '李',
  '胡',
  '刘',
  '吴',
  '朱',
  '钱',
  '沈',
  '徐',
  '杨',
  '周',
  '黄',
  '孙',
  '俞',
  '汪',
]
const GIVEN = [
  '建国',
  '国强',
  '秀英',
  '桂英',
  '玉兰',
  '志明',
  '海燕',
  '丽华',
  '金根',
  '水根',
  '伟',
  '芳',
  '建华',
  '春花',
  '小军',
  '美琴',
  '德明',
  '荣华',
  '晓东',
  '雪梅',
  '林',
  '静',
  '永福',
  '爱珍',
]
const personName = (rng: Rng) => rng.pick(SURNAMES) + rng.pick(GIVEN)
const phone = (rng: Rng) =>
  `1${rng.pick(['3', '5', '7', '8', '9'])}${String(rng.int(0, 999_999_999)).padStart(9, '0')}`

const HOUSEHOLD_NOTES = [
  '家中有留守老人，需定期走访',
  '子女在杭州务工，春节返乡',
  '独居老人，行动不便',
  '家有残疾人，已办理残疾证',
  '经营农家乐',
  '种植白茶约5亩',
]

const PLACE_NAMES: Record<(typeof PLACE_TYPES)[number], (village: string, rng: Rng) => string> = {
  enterprise: (v, rng) =>
    rng.pick([`${v}竹制品厂`, `${rng.pick(SURNAMES)}氏竹木加工厂`, `${v}白茶专业合作社`]),
  school: (v, rng) => rng.pick([`${v}小学`, `${v}幼儿园`]),
  clinic: (v) => `${v}卫生室`,
  shop: (v, rng) => rng.pick([`${rng.pick(SURNAMES)}记便民超市`, `${v}农家小店`, `${v}农资店`]),
  rental: (_v, rng) => `${rng.pick(SURNAMES)}家出租房`,
  religious: (v, rng) => rng.pick([`${v}祠堂`, '观音庙']),
  waterworks: (v, rng) => rng.pick([`${v}山塘水库`, `${v}灌溉泵站`, `${v}饮用水站`]),
  hazard: (v, rng) => rng.pick([`${v}地质灾害隐患点`, `${v}山体滑坡隐患点`, '废弃矿坑']),
  public: (v, rng) => rng.pick([`${v}文化礼堂`, `${v}村民活动中心`, `${v}党群服务中心`]),
  other: (v, rng) => rng.pick([`${v}垃圾分类中转站`, `${v}停车场`]),
}

const INCIDENT_TEXT: Record<(typeof INCIDENT_CATEGORIES)[number], readonly string[]> = {
  dispute: [
    '邻里因宅基地边界发生争执',
    '两户因排水沟堵塞产生矛盾',
    '土地流转租金纠纷',
    '家庭赡养纠纷，需调解',
  ],
  safety: ['山坡有落石风险，需设置警示', '民房电线老化裸露', '竹林防火通道被堵塞', '桥梁护栏松动'],
  order: ['夜间有陌生车辆多次出入', '农家乐门口停车混乱', '发现疑似电信诈骗宣传单'],
  environment: ['溪边有人倾倒建筑垃圾', '垃圾桶满溢未及时清运', '养殖污水直排入溪', '路边秸秆焚烧'],
  livelihood: ['路灯损坏，晚上出行不便', '自来水压力不足', '村道路面坑洼需修补', '申请低保救助咨询'],
  care: ['独居老人连续两天未见出门', '留守儿童放学无人接送', '残疾人家庭需要上门帮扶'],
  other: ['村民反映手机信号差', '快递无法送达本村', '咨询医保缴费事宜'],
}

type Status = Incident['status']
const PATHS: Record<Status, Status[]> = {
  reported: [],
  accepted: ['accepted'],
  voided: ['voided'],
  parked: ['accepted', 'parked'],
  dispatched: ['accepted', 'dispatched'],
  in_progress: ['accepted', 'dispatched', 'in_progress'],
  handled: ['accepted', 'dispatched', 'in_progress', 'handled'],
  returned: ['accepted', 'dispatched', 'in_progress', 'handled', 'returned'],
  verified: ['accepted', 'dispatched', 'in_progress', 'handled', 'verified'],
  closed: ['accepted', 'dispatched', 'in_progress', 'handled', 'verified', 'closed'],
  rated: ['accepted', 'dispatched', 'in_progress', 'handled', 'verified', 'closed', 'rated'],
}

const PASSWORD_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789' // 32 symbols: no l, o, 0, 1

function randomPassword(random: SeedOptions['random']): string {
  return Array.from(random(12), (byte) => PASSWORD_ALPHABET[byte & 31]).join('')
}

/**
 * Seed the demo county (安吉县) when the database has no areas: areas, users with random passwords (returned, never
 * stored in clear) and ~440 records written through the sync service as `seed-device`, so they carry stamps and
 * history like any record. Deterministic given the same `random` and `now`.
 */
export async function seedDemo(store: SyncStore, { now, random }: SeedOptions): Promise<SeedResult> {
  if ((await store.countAreas()) > 0) return { seeded: false, logins: [] }
  const rng = layoutRandom(330523)
  const { areas, grids } = planAreas(rng)
  const [townA, townB] = TOWNS.map((t) => childCode(DEMO_COUNTY, t.index)) as [string, string]
  const gridIds = grids.map((g) => g.id)
  const people: Omit<DemoLogin, 'password'>[] = [
    { username: 'admin', role: 'admin', displayName: '安吉县管理员', areaIds: [DEMO_COUNTY] },
    { username: 'leader_town', role: 'leader', displayName: '天荒坪镇网格长 陈国强', areaIds: [townA] },
    {
      username: 'leader_village',
      role: 'leader',
      displayName: '高家堂村书记 俞美琴',
      areaIds: [childCode(townB, 1)],
    },
    { username: 'worker1', role: 'worker', displayName: '网格员 潘晓燕', areaIds: gridIds.slice(0, 3) },
    { username: 'worker2', role: 'worker', displayName: '网格员 胡建华', areaIds: gridIds.slice(3, 6) },
    { username: 'worker3', role: 'worker', displayName: '网格员 沈春花', areaIds: gridIds.slice(6, 8) },
    { username: 'handler', role: 'handler', displayName: '天荒坪镇综合执法队', areaIds: [townA] },
  ]
  const logins: DemoLogin[] = people.map((p) => ({ ...p, password: randomPassword(random) }))
  // Ids and salts are drawn in a fixed order (determinism), then hashed in parallel (argon2id is slow on purpose).
  const drawn = logins.map(({ password: _password, ...user }) => ({
    ...user,
    id: uuidv4({ random: random(16) }),
  }))
  const salts = logins.map(() => random(16))
  const hashes = await Promise.all(logins.map((l, i) => hashPassword(l.password, { salt: salts[i]! })))
  const users: User[] = drawn
  await store.transaction(async (tx) => {
    await tx.insertAreas(areas)
    for (const [i, user] of users.entries()) {
      await tx.insertUser({ ...user, passwordHash: hashes[i]!, createdAt: now })
    }
  })

  const admin = users[0]!
  const handler = users.find((u) => u.role === 'handler')!
  const workers = users.filter((u) => u.role === 'worker')
  const ops = demoOps(rng, grids, now, { admin, handler, handlerTownId: townA, workers })
  const sync = createSyncService({ store, maxClockDriftMs: 5 * 60_000 })
  // Pushed in order, in batches of one author each: the closed loop's steps are judged like any device's.
  for (let i = 0; i < ops.length;) {
    const by = ops[i]!.by
    let end = i
    while (end < ops.length && end - i < 250 && ops[end]!.by === by) end++
    const batch = ops.slice(i, end).map((o) => o.op)
    const { results } = await sync.push(by, SEED_DEVICE, batch, now)
    const refused = results.find((r) => r.status === 'refused')
    if (refused) throw new Error(`seed op ${refused.seq} refused: ${JSON.stringify(refused)}`)
    i = end
  }
  return { seeded: true, logins }
}

interface DemoActors {
  admin: User
  /** The demo handler (责任单位), who takes the handler's steps of the incidents in its town. */
  handler: User
  handlerTownId: string
  /** The grid workers: a visit is recorded by the worker of its grid (its 走访人). */
  workers: User[]
}

function demoOps(rng: Rng, grids: GridPlan[], now: number, actors: DemoActors): { op: Op; by: User }[] {
  let clock: Clock = createClock(SEED_DEVICE, now)
  let seq = 0
  const ops: { op: Op; by: User }[] = []
  const push = (op: Op, by: User = actors.admin) => ops.push({ op, by })
  const newId = () => uuidv7({ msecs: now, random: rng.bytes(16) })
  const stamp = (): Stamp => {
    const next = tick(clock, now)
    clock = next.clock
    return next.stamp
  }
  const create = (
    kind: RecordKind,
    id: string,
    fields: Household | Place | Incident | Person | Visit,
  ): Stamp => {
    const s = stamp()
    const base = Object.fromEntries(Object.keys(fields).map((k) => [k, null]))
    push({ type: 'put', seq: ++seq, kind, id, stamp: s, base, create: true, fields })
    return s
  }
  const address = (grid: GridPlan) => {
    const number = rng.int(1, 188)
    return { address: `${grid.townName}${grid.villageName}${rng.pick(grid.roads)}${number}号`, number }
  }

  const householdsByGrid = new Map<string, string[]>()
  const heads: { id: string; gridId: string; name: string; phone: string | null }[] = []
  const placesByGrid = new Map<string, string[]>()
  for (let i = 0; i < 300; i++) {
    const grid = grids[i % grids.length]!
    const id = newId()
    const { address: addr, number } = address(grid)
    const household: Household = {
      gridId: grid.id,
      address: addr,
      houseNumber: rng.chance(0.7) ? `${number}号` : null,
      location: pointIn(grid.cell, rng),
      housing: rng.weighted([
        ['owned', 75],
        ['rented', 18],
        ['borrowed', 7],
      ] as const),
      headName: personName(rng),
      headPhone: rng.chance(0.85) ? phone(rng) : null,
      memberCount: rng.int(1, 6),
      notes: rng.chance(0.3) ? rng.pick(HOUSEHOLD_NOTES) : null,
    }
    create('household', id, household)
    heads.push({ id, gridId: grid.id, name: household.headName, phone: household.headPhone ?? null })
    householdsByGrid.set(grid.id, [...(householdsByGrid.get(grid.id) ?? []), id])
  }
  for (let i = 0; i < 60; i++) {
    const grid = grids[i % grids.length]!
    const id = newId()
    const type = PLACE_TYPES[i % PLACE_TYPES.length]!
    create('place', id, {
      gridId: grid.id,
      type,
      name: PLACE_NAMES[type](grid.villageName, rng),
      address: address(grid).address,
      location: pointIn(grid.cell, rng),
      contactName: rng.chance(0.8) ? personName(rng) : null,
      contactPhone: rng.chance(0.8) ? phone(rng) : null,
      riskLevel:
        type === 'hazard'
          ? rng.pick(['medium', 'high'] as const)
          : rng.weighted([
              ['low', 70],
              ['medium', 25],
              ['high', 5],
            ] as const),
      notes: type === 'hazard' ? '汛期每日巡查，雨后重点查看' : null,
    })
    placesByGrid.set(grid.id, [...(placesByGrid.get(grid.id) ?? []), id])
  }
  const statuses = Object.keys(PATHS) as Status[]
  const updates: { id: string; path: Status[]; created: Stamp; incident: Incident }[] = []
  for (let i = 0; i < 80; i++) {
    const grid = grids[i % grids.length]!
    const category = rng.weighted([
      ['dispute', 14],
      ['safety', 18],
      ['order', 8],
      ['environment', 20],
      ['livelihood', 22],
      ['care', 10],
      ['other', 8],
    ] as const)
    const id = newId()
    const incident: Incident = {
      gridId: grid.id,
      category,
      description: rng.pick(INCIDENT_TEXT[category]),
      location: pointIn(grid.cell, rng),
      urgency: rng.weighted([
        ['normal', 70],
        ['urgent', 15],
        ['complex', 15],
      ] as const),
      status: 'reported',
      reportedAt: now - rng.int(1, 30 * 24 * 60) * 60_000,
      householdId:
        category !== 'safety' && rng.chance(0.35) ? rng.pick(householdsByGrid.get(grid.id)!) : null,
      placeId: category === 'safety' && rng.chance(0.6) ? rng.pick(placesByGrid.get(grid.id)!) : null,
    }
    let path = PATHS[statuses[i % statuses.length]!]
    // Only the handler's own town can be dispatched to: elsewhere the loop stops before dispatch, and the cases
    // meant to be closed are on-the-spot fixes (即办件) instead, created closed and then rated.
    if (grid.townId !== actors.handlerTownId && path.includes('closed')) {
      const fix = stepPatch(
        null,
        'quick_fix',
        actors.admin,
        { result: rng.pick(QUICK_FIXES) },
        incident.reportedAt,
      )
      Object.assign(incident, fix)
      path = ['rated']
    } else if (grid.townId !== actors.handlerTownId && path.includes('dispatched')) {
      path = path.slice(0, path.indexOf('dispatched'))
    }
    const created = create('incident', id, incident)
    updates.push({ id, path, created, incident })
  }
  // The closed loop, one step per op, each built on the last (compare-and-set on the status stamp), by the roles
  // the workflow names: the admin for the leader's and the worker's steps, the handler for its own.
  for (const { id, path, created, incident } of updates) {
    let base = created
    let current: WorkflowIncident = { ...incident }
    let at = incident.reportedAt
    for (const status of path) {
      const step = transitionFor(current.status, status)
      if (!step) throw new Error(`the demo path ${current.status} → ${status} is no step of the loop`)
      const by = step.roles.includes('admin') ? actors.admin : actors.handler
      at = Math.min(at + rng.int(30, 24 * 60) * 60_000, now - 60_000)
      const fields = stepPatch(
        current,
        step.action,
        { id: by.id, role: by.role },
        demoStepInput(rng, actors),
        at,
      )
      const s = stamp()
      const seen = Object.fromEntries(Object.keys(fields).map((k) => [k, k === 'status' ? base : null]))
      push({ type: 'put', seq: ++seq, kind: 'incident', id, stamp: s, base: seen, create: false, fields }, by)
      current = { ...current, ...(fields as Partial<WorkflowIncident>) }
      base = s
    }
  }
  // Members (家庭成员) and a visit (走访) for the first households of each grid: enough to show, cheap to sync.
  for (const head of heads.slice(0, 40)) {
    const headYear = rng.int(1945, 1985)
    const members: Person[] = [
      member(rng, head, 'head', head.name, headYear, rng.chance(0.6) ? 'male' : 'female', head.phone),
      member(rng, head, 'spouse', personName(rng), headYear + rng.int(-3, 3), null, null),
    ]
    if (headYear > 1960 && rng.chance(0.7)) {
      members.push(member(rng, head, 'child', personName(rng), headYear + rng.int(22, 32), null, null))
    }
    members[1]!.gender = members[0]!.gender === 'male' ? 'female' : 'male'
    for (const person of members) create('person', newId(), withIdNumber(rng, person))
    const visitor = actors.workers.find((w) => w.areaIds.includes(head.gridId)) ?? actors.admin
    const visit: Visit = {
      gridId: head.gridId,
      targetKind: 'household',
      targetId: head.id,
      visitedAt: now - rng.int(1, 60 * 24 * 60) * 60_000,
      notes: rng.pick(VISIT_NOTES),
      visitorId: visitor.id,
      visitorName: visitor.displayName,
    }
    const base = Object.fromEntries(Object.keys(visit).map((k) => [k, null]))
    push(
      {
        type: 'put',
        seq: ++seq,
        kind: 'visit',
        id: newId(),
        stamp: stamp(),
        base,
        create: true,
        fields: visit,
      },
      visitor,
    )
  }
  return ops
}

const QUICK_FIXES = ['网格员当场劝导，已清理', '现场协调，当场解决', '已当场移除障碍物']
const RESULTS = [
  '已现场处置完毕，群众满意',
  '已联系相关部门修复',
  '已调解，双方达成一致',
  '已清理并设置警示标志',
]

/** What a demo user gives at a step: the handler to dispatch to, a result, a reason, a rating. */
function demoStepInput(rng: Rng, actors: DemoActors): StepInput {
  return {
    handlerId: actors.handler.id,
    result: rng.pick(RESULTS),
    reason: rng.pick(['需协调上级部门', '资金未落实，待下年度安排', '现场核查未整改到位']),
    rating: rng.int(3, 5),
  }
}

const VISIT_NOTES = ['上门走访，家中老人身体尚好', '宣传防诈骗知识', '了解低保申请情况', '检查用电用气安全']

/** A member without an ID number yet; its gender is settled before withIdNumber derives the number from it. */
function member(
  rng: Rng,
  head: { id: string; gridId: string },
  relation: Person['relation'],
  name: string,
  year: number,
  gender: Person['gender'] | null,
  phoneNumber: string | null,
): Person {
  const elderly = year < 1960
  const disabled = rng.chance(0.08)
  const tags: NonNullable<Person['tags']> = []
  if (elderly && rng.chance(0.5)) tags.push('left_behind_elderly')
  if (disabled) tags.push('disabled')
  return {
    gridId: head.gridId,
    householdId: head.id,
    name,
    gender: gender ?? (rng.chance(0.5) ? 'male' : 'female'),
    birthDate: `${year}-${String(rng.int(1, 12)).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')}`,
    idNumber: null,
    phone: phoneNumber ?? (rng.chance(0.6) ? phone(rng) : null),
    relation,
    populationType: rng.chance(0.9) ? 'registered' : 'migrant',
    tags,
    disabilityGrade: disabled ? rng.int(1, 4) : null,
    notes: null,
  }
}

/** An 18-digit 身份证号 of 安吉县 agreeing with the member's birth date and gender, with its MOD 11-2 check digit. */
function withIdNumber(rng: Rng, person: Person): Person {
  const order = rng.int(0, 49) * 2 + (person.gender === 'male' ? 1 : 0)
  const first17 = `330523${person.birthDate.replaceAll('-', '')}${String(rng.int(0, 9))}${String(order).padStart(2, '0')}`
  return { ...person, idNumber: `${first17}${idCheckCharacter(first17)}` }
}
