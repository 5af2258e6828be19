import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, OSM_TILE_URL, loadConfig } from '../../server/config.ts'
import { SERVER_NODE_FLAGS } from '../../server/nodeFlags.ts'

describe('loadConfig', () => {
  it('has defaults for everything', () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      host: '0.0.0.0',
      dataDir: './data',
      maxClockDriftMs: 300_000,
      bodyLimit: '2mb',
      basemapUrl: OSM_TILE_URL,
      basemapAttribution: '© OpenStreetMap contributors',
      logLevel: 'info',
      accessTokenTtlMs: 15 * 60_000,
      refreshTokenTtlMs: 30 * 86_400_000,
      trustProxy: false,
      deadlines: { urgent: 1, normal: 3, complex: 7, max: 15 },
      databaseUrl: null,
      databasePoolSize: 10,
    })
  })

  it('reads INCIDENT_DEADLINE_DAYS, keys left out keeping their defaults', () => {
    expect(loadConfig({ INCIDENT_DEADLINE_DAYS: 'urgent=0.5,normal=2,complex=5,max=10' }).deadlines).toEqual({
      urgent: 0.5,
      normal: 2,
      complex: 5,
      max: 10,
    })
    expect(loadConfig({ INCIDENT_DEADLINE_DAYS: 'normal=4' }).deadlines).toEqual({
      urgent: 1,
      normal: 4,
      complex: 7,
      max: 15,
    })
  })

  it.each([
    ['true', true],
    ['2', 2],
    ['loopback, 10.0.0.0/8', 'loopback, 10.0.0.0/8'],
  ])('reads TRUST_PROXY=%s', (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toEqual(expected)
  })

  it('reads DATABASE_URL: PostgreSQL instead of the SQLite file', () => {
    const url = 'postgresql://gridpatrol:secret@db.internal:5432/gridpatrol'
    expect(loadConfig({ DATABASE_URL: url, DATABASE_POOL_SIZE: '25' })).toMatchObject({
      databaseUrl: url,
      databasePoolSize: 25,
    })
    expect(loadConfig({ DATABASE_URL: '' }).databaseUrl).toBeNull()
  })

  it('reads the token lifetimes, short ones included (the e2e test lets sessions expire)', () => {
    expect(loadConfig({ ACCESS_TOKEN_TTL_MS: '2000', REFRESH_TOKEN_TTL_MS: '6000' })).toMatchObject({
      accessTokenTtlMs: 2000,
      refreshTokenTtlMs: 6000,
    })
  })

  it('reads the variables, an empty BASEMAP_URL meaning no basemap', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATA_DIR: '/var/lib/gridpatrol',
      MAX_CLOCK_DRIFT_MS: '60000',
      BODY_LIMIT: '500kb',
      BASEMAP_URL: '',
      LOG_LEVEL: 'warn',
    })
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      maxClockDriftMs: 60_000,
      bodyLimit: '500kb',
    })
    expect(config).toMatchObject({ basemapUrl: '', basemapAttribution: '', logLevel: 'warn' })
    const tianditu = 'https://t0.tianditu.gov.cn/vec_w/wmts?tk=KEY&x={x}&y={y}&l={z}'
    expect(loadConfig({ BASEMAP_URL: tianditu, BASEMAP_ATTRIBUTION: '天地图' })).toMatchObject({
      basemapUrl: tianditu,
      basemapAttribution: '天地图',
    })
  })

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['MAX_CLOCK_DRIFT_MS', '-5'],
    ['BODY_LIMIT', 'lots'],
    ['BASEMAP_URL', 'ftp://tiles/{z}/{x}/{y}.png'],
    ['BASEMAP_URL', 'https://tiles.example/{z}.png'],
    ['LOG_LEVEL', 'loud'],
    ['ACCESS_TOKEN_TTL_MS', '10'],
    ['REFRESH_TOKEN_TTL_MS', 'forever'],
    ['REFRESH_TOKEN_TTL_MS', '60000'],
    ['TRUST_PROXY', 'everyone'],
    ['INCIDENT_DEADLINE_DAYS', 'urgent=one'],
    ['INCIDENT_DEADLINE_DAYS', 'slow=3'],
    ['INCIDENT_DEADLINE_DAYS', 'urgent=0'],
    ['INCIDENT_DEADLINE_DAYS', 'complex=20'],
    ['DATABASE_URL', 'mysql://db/gridpatrol'],
    ['DATABASE_POOL_SIZE', '0'],
  ])('refuses %s=%s with a message naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError)
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^Invalid environment variable ${name}=`))
  })
})

describe('the server process flags', () => {
  it.each(['start', 'serve'])('are the ones npm run %s runs the server with', (script) => {
    const pkg = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as {
      scripts: Record<string, string>
    }
    const node = pkg.scripts[script]!.split('&&')
      .map((part) => part.trim())
      .find((part) => part.startsWith('node '))
    expect(node).toBe(`node ${SERVER_NODE_FLAGS.join(' ')} --import tsx server/index.ts`)
  })
})
