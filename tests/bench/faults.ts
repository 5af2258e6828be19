/**
 * The fault and fuzz tests at bench counts (issue 6: ≥100 runs each, ≥10,000 fuzz requests), as bench rows.
 *
 * Each test file runs as it does in CI (`vitest run --project … <file>`, a real server, a real Chromium), with its
 * round count raised through its own variable (FAULT_ROUNDS, FUZZ_RUNS, FAULT_SERVER_RUNS, FAULT_RUNS), in chunks:
 * every chunk is a fresh vitest process (fresh server and devices) that stays within the test timeouts, and a
 * failing chunk does not hide the rounds of the others. Rounds passed are counted per test from vitest's JSON
 * report: a chunk's rounds pass when its test passes (a test stops at its first failing round, so a failed chunk
 * counts as failed whole).
 *
 * Counts: BENCH_FAULT_RUNS (browser faults and the server's reordered and replayed ops, default 100 rounds each),
 * BENCH_FAULT_KILL_RUNS (SIGKILL mid-push, default 100), BENCH_FUZZ_RUNS (default 10,000); chunk sizes
 * BENCH_FAULT_CHUNK (10), 25, 100 and 2,500. The browser faults need the built app (dist/), as the e2e tests do.
 * BENCH_FAULTS=0 leaves all of them out.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export interface FaultRow {
  name: string
  value: string
  goal: string
}

interface FaultSuite {
  file: string
  project: 'e2e' | 'server'
  /** The variable that sets the file's round count. */
  variable: string
  total: number
  chunk: number
  /** What one round is, for the row's name. */
  unit: string
}

const ROOT = resolve(import.meta.dirname, '../..')
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs')
const BROWSER_RUNS = Number(process.env.BENCH_FAULT_RUNS ?? 100)
const BROWSER_CHUNK = Number(process.env.BENCH_FAULT_CHUNK ?? 10)

export const FAULT_SUITES: FaultSuite[] = [
  {
    file: 'tests/e2e/serverCrash.test.ts',
    project: 'e2e',
    variable: 'FAULT_ROUNDS',
    total: Number(process.env.BENCH_FAULT_KILL_RUNS ?? 100),
    chunk: 25,
    unit: 'server SIGKILLed mid-push of 500, restarted, batch replayed',
  },
  {
    file: 'tests/server/fuzz.test.ts',
    project: 'server',
    variable: 'FUZZ_RUNS',
    total: Number(process.env.BENCH_FUZZ_RUNS ?? 10_000),
    chunk: 2_500,
    unit: 'malformed, oversized or hostile request',
  },
  {
    file: 'tests/server/faultsReplayReorder.test.ts',
    project: 'server',
    variable: 'FAULT_SERVER_RUNS',
    total: BROWSER_RUNS,
    chunk: 100,
    unit: 'arrival order of 8 ops from 3 devices, then all replayed',
  },
  ...['faultsLostResponse', 'faultsReload', 'faultsClockSkew', 'faultsServiceWorkerUpdate'].map((name) => ({
    file: `tests/e2e/${name}.test.ts`,
    project: 'e2e' as const,
    variable: 'FAULT_RUNS',
    total: BROWSER_RUNS,
    chunk: BROWSER_CHUNK,
    unit: 'round in Chromium',
  })),
]

interface JsonReport {
  testResults: { assertionResults: { title: string; status: string; failureMessages?: string[] }[] }[]
}

/** One vitest process over `file` with `rounds` rounds: per test (title without its round count), passed or not. */
async function runChunk(suite: FaultSuite, rounds: number): Promise<Map<string, boolean>> {
  const dir = mkdtempSync(join(tmpdir(), 'gridpatrol-faults-'))
  const report = join(dir, 'report.json')
  try {
    const code = await new Promise<number | null>((done) => {
      const child = spawn(
        process.execPath,
        [VITEST, 'run', '--project', suite.project, suite.file, '--reporter=json', `--outputFile=${report}`],
        {
          cwd: ROOT,
          env: { ...process.env, [suite.variable]: String(rounds) },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      )
      let errors = ''
      child.stderr?.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-4000)))
      child.on('exit', (exitCode) => {
        if (exitCode !== 0) console.warn(`${suite.file} (${rounds} rounds) exited ${exitCode}:\n${errors}`)
        done(exitCode)
      })
    })
    const results = new Map<string, boolean>()
    try {
      const parsed = JSON.parse(readFileSync(report, 'utf8')) as JsonReport
      for (const file of parsed.testResults)
        for (const test of file.assertionResults) {
          if (test.status !== 'passed')
            console.warn(`${test.title}: ${(test.failureMessages ?? []).join('\n').slice(0, 2000)}`)
          results.set(
            test.title
              .replace(/\s*\(\d+ rounds?(?: of \d+)?\)\s*$/, '')
              .replace(new RegExp(`\\b${rounds}\\b`), 'N'),
            test.status === 'passed',
          )
        }
    } catch {
      results.set(`${suite.file} (no report, exit ${String(code)})`, false)
    }
    return results
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Run every fault suite at its bench count; one row per test, with rounds passed / run and the time taken. */
export async function faultBenchRows(suites: FaultSuite[] = FAULT_SUITES): Promise<FaultRow[]> {
  if (process.env.BENCH_FAULTS === '0') return []
  const rows: FaultRow[] = []
  for (const suite of suites) {
    const started = performance.now()
    const tally = new Map<string, { run: number; passed: number }>()
    for (let done = 0; done < suite.total;) {
      const rounds = Math.min(suite.chunk, suite.total - done)
      for (const [title, passed] of await runChunk(suite, rounds)) {
        const entry = tally.get(title) ?? { run: 0, passed: 0 }
        entry.run += rounds
        if (passed) entry.passed += rounds
        tally.set(title, entry)
      }
      done += rounds
    }
    const minutes = (performance.now() - started) / 60_000
    for (const [title, { run, passed }] of tally) {
      rows.push({
        name: `fault/fuzz (${suite.file}, ${suite.unit}, chunks of ${suite.chunk}): ${title}`,
        value: `${passed.toLocaleString('en-US')}/${run.toLocaleString('en-US')} passed${passed === run ? '' : ' — FAILURES'} (${minutes.toFixed(1)} min for the file)`,
        goal: `${suite.variable === 'FUZZ_RUNS' ? '≥10,000' : '≥100'} runs, all pass (proof issue)`,
      })
    }
  }
  return rows
}

// `node --import tsx tests/bench/faults.ts`: only these rows.
if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const rows = await faultBenchRows()
  console.log('| benchmark | result | goal |\n|---|---|---|')
  for (const row of rows) console.log(`| ${row.name} | ${row.value} | ${row.goal} |`)
}
