import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { createApp } from './app.ts'
import { ConfigError, loadConfig } from './config.ts'
import type { Config } from './config.ts'
import { seedDemo } from './seed.ts'
import type { DemoLogin } from './seed.ts'
import { openStore } from './store/openStore.ts'

const repoRoot = fileURLToPath(new URL('..', import.meta.url))

function readConfig(): Config {
  try {
    return loadConfig(process.env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(error.message)
    process.exit(1)
  }
}

const config = readConfig()
const logger = pino({ level: config.logLevel })
const dataDir = resolve(config.dataDir)
mkdirSync(dataDir, { recursive: true })
// SQLite in DATA_DIR, or PostgreSQL when DATABASE_URL is set (several processes may then share the database).
const { store, location, exclusively } = openStore(config, dataDir)
logger.info({ store: store.dialect.name, location }, 'opening the database')

const loginsFile = join(dataDir, 'demo-logins.json')
const seed = await exclusively(async () => {
  await store.migrate()
  return seedDemo(store, { now: Date.now(), random: (size) => randomBytes(size) })
})
if (seed.seeded) {
  writeFileSync(loginsFile, JSON.stringify(seed.logins, null, 2) + '\n', { mode: 0o600 })
  chmodSync(loginsFile, 0o600)
  logger.info({ file: loginsFile }, 'seeded the demo county 安吉县')
}

const distDir = join(repoRoot, 'dist')
const staticDir = existsSync(join(distDir, 'index.html')) ? distDir : undefined
if (!staticDir) logger.warn({ distDir }, 'no built app found: serving the API only (run `npm run build`)')

const app = createApp({ store, config, now: () => Date.now(), logger, ...(staticDir ? { staticDir } : {}) })
const server = app.listen(config.port, config.host, (error?: Error) => {
  if (error) {
    logger.fatal({ err: error }, 'could not listen')
    process.exit(1)
  }
  const lines = [`\n  网格巡查 GridPatrol: http://localhost:${config.port}/\n`]
  if (existsSync(loginsFile)) {
    const logins = JSON.parse(readFileSync(loginsFile, 'utf8')) as DemoLogin[]
    lines.push(`  Demo logins (${loginsFile}):`)
    for (const l of logins)
      lines.push(`    ${l.username.padEnd(16)} ${l.password}   ${l.role.padEnd(8)} ${l.displayName}`)
  }
  console.log(lines.join('\n') + '\n')
})

let stopping = false
function shutdown(signal: string) {
  if (stopping) return
  stopping = true
  logger.info({ signal }, 'shutting down')
  const force = setTimeout(() => server.closeAllConnections(), 5000)
  force.unref()
  server.close(() => {
    store
      .close()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ err: error }, 'closing the database failed')
        process.exit(1)
      })
  })
  server.closeIdleConnections()
}
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))
