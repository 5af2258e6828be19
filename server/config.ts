import { isIP } from 'node:net'
import { z } from 'zod'
import { DEFAULT_DEADLINES, parseDeadlineConfig, type DeadlineConfig } from '#shared/domain/deadlines.ts'

export const OSM_TILE_URL = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png'
export const OSM_ATTRIBUTION = '© OpenStreetMap contributors'

export interface Config {
  port: number
  host: string
  dataDir: string
  maxClockDriftMs: number
  bodyLimit: string
  /** Leaflet tile URL template; '' = no basemap (grids and points on a plain background). */
  basemapUrl: string
  basemapAttribution: string
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  /** Lifetime of an access token (short: a stolen one is soon useless). */
  accessTokenTtlMs: number
  /** Lifetime of a refresh token; every refresh rotates it and starts a new lifetime. */
  refreshTokenTtlMs: number
  /**
   * Express's `trust proxy`: whom to believe about the client address (X-Forwarded-For). Off by default; behind a
   * reverse proxy set it, or every login shares the proxy's address and its rate limit.
   */
  trustProxy: boolean | number | string
  /** Days to handle an incident by urgency (处置时限), and the most any deadline may give; devices get them too. */
  deadlines: DeadlineConfig
  /**
   * PostgreSQL connection URL (DATABASE_URL): the store several server processes can share. null: the SQLite file
   * DATA_DIR/gridpatrol.sqlite (one process).
   */
  databaseUrl: string | null
  /** Connections each process keeps to PostgreSQL at most. */
  databasePoolSize: number
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** An empty variable counts as unset, except BASEMAP_URL where '' means "no basemap". */
const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value)
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(unsetIfEmpty, schema)

const envSchema = z.object({
  PORT: optional(z.coerce.number().int().min(0).max(65535).default(3000)),
  HOST: optional(z.string().default('0.0.0.0')),
  DATA_DIR: optional(z.string().default('./data')),
  MAX_CLOCK_DRIFT_MS: optional(
    z.coerce
      .number()
      .int()
      .min(1000)
      .max(86_400_000)
      .default(5 * 60_000),
  ),
  BODY_LIMIT: optional(
    z
      .string()
      .regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i, 'expected a size such as 2mb or 500kb')
      .default('2mb'),
  ),
  BASEMAP_URL: z
    .string()
    .refine(
      (url) =>
        url === '' || (/^(https?:\/\/|\/)/.test(url) && ['{z}', '{x}', '{y}'].every((p) => url.includes(p))),
      'expected an http(s) or /path tile URL template with {z}, {x} and {y}, or an empty string for no basemap',
    )
    .optional(),
  BASEMAP_ATTRIBUTION: z.string().optional(),
  LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  ACCESS_TOKEN_TTL_MS: optional(
    z.coerce
      .number()
      .int()
      .min(1000)
      .max(86_400_000)
      .default(15 * 60_000),
  ),
  TRUST_PROXY: optional(
    z
      .string()
      .refine(
        (v) =>
          /^(true|false|\d{1,2})$/.test(v) ||
          v
            .split(',')
            .map((t) => t.trim())
            .every(
              (t) => ['loopback', 'linklocal', 'uniquelocal'].includes(t) || isIP(t.split('/')[0]!) !== 0,
            ),
        'expected true, false, a number of hops, or addresses/subnets (e.g. loopback, 10.0.0.0/8)',
      )
      .optional(),
  ),
  INCIDENT_DEADLINE_DAYS: optional(
    z
      .string()
      .superRefine((text, ctx) => {
        const problem = deadlineProblemOf(text)
        if (problem) ctx.addIssue({ code: 'custom', message: problem })
      })
      .optional(),
  ),
  DATABASE_URL: optional(
    z
      .string()
      .regex(
        /^postgres(ql)?:\/\/\S+$/,
        'expected a PostgreSQL URL such as postgresql://user:password@host:5432/db',
      )
      .optional(),
  ),
  DATABASE_POOL_SIZE: optional(z.coerce.number().int().min(1).max(1000).default(10)),
  REFRESH_TOKEN_TTL_MS: optional(
    z.coerce
      .number()
      .int()
      .min(1000)
      .max(366 * 86_400_000)
      .default(30 * 86_400_000),
  ),
})

/** Read the server's settings from the environment; a bad value throws a ConfigError naming the variable. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const result = envSchema.safeParse(env)
  if (!result.success) {
    const issue = result.error.issues[0]
    const name = issue?.path.map(String).join('.') ?? 'environment'
    throw new ConfigError(
      `Invalid environment variable ${name}=${JSON.stringify(env[name] ?? '')}: ${issue?.message ?? 'invalid'}`,
    )
  }
  const e = result.data
  if (e.REFRESH_TOKEN_TTL_MS < e.ACCESS_TOKEN_TTL_MS) {
    throw new ConfigError(
      `Invalid environment variable REFRESH_TOKEN_TTL_MS=${JSON.stringify(env.REFRESH_TOKEN_TTL_MS ?? '')}: ` +
        'must not be shorter than ACCESS_TOKEN_TTL_MS',
    )
  }
  const basemapUrl = e.BASEMAP_URL ?? OSM_TILE_URL
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: e.DATA_DIR,
    maxClockDriftMs: e.MAX_CLOCK_DRIFT_MS,
    bodyLimit: e.BODY_LIMIT,
    basemapUrl,
    basemapAttribution: e.BASEMAP_ATTRIBUTION ?? (basemapUrl === OSM_TILE_URL ? OSM_ATTRIBUTION : ''),
    logLevel: e.LOG_LEVEL,
    accessTokenTtlMs: e.ACCESS_TOKEN_TTL_MS,
    refreshTokenTtlMs: e.REFRESH_TOKEN_TTL_MS,
    trustProxy: trustProxyOf(e.TRUST_PROXY),
    deadlines:
      e.INCIDENT_DEADLINE_DAYS === undefined
        ? { ...DEFAULT_DEADLINES }
        : deadlinesOf(e.INCIDENT_DEADLINE_DAYS),
    databaseUrl: e.DATABASE_URL ?? null,
    databasePoolSize: e.DATABASE_POOL_SIZE,
  }
}

const DEADLINE_HINT = 'expected days per urgency such as urgent=1,normal=3,complex=7,max=15'

/** INCIDENT_DEADLINE_DAYS read by the shared parser (the same rules the workflow applies). */
function deadlinesOf(text: string): DeadlineConfig {
  return parseDeadlineConfig(text)
}

function deadlineProblemOf(text: string): string | null {
  if (text.trim() === '') return `no deadline given (${DEADLINE_HINT})`
  try {
    parseDeadlineConfig(text)
    return null
  } catch (error) {
    return `${error instanceof Error ? error.message : String(error)} (${DEADLINE_HINT})`
  }
}

function trustProxyOf(value: string | undefined): boolean | number | string {
  if (value === undefined || value === 'false') return false
  if (value === 'true') return true
  return /^\d+$/.test(value) ? Number(value) : value
}
