import { statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

/** The worker: its own connection to the database file, a PASSIVE checkpoint every `intervalMs`, closed on request. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.file, { fileMustExist: true })
db.pragma('synchronous = FULL')
let timer = null
const tick = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)')
  } catch (error) {
    parentPort.postMessage({ error: String(error) })
  }
  timer = setTimeout(tick, workerData.intervalMs)
}
timer = setTimeout(tick, workerData.intervalMs)
parentPort.on('message', () => {
  clearTimeout(timer)
  db.close()
  parentPort.close()
})
`

export interface WalCheckpointerOptions {
  /** How often the worker checkpoints. */
  intervalMs?: number
  /** The WAL size (bytes) at which the worker starts; below it the writer's own autocheckpoint does the job. */
  startAtBytes?: number
  /** Told when a checkpoint fails (the writer's fallback autocheckpoint then keeps the WAL bounded). */
  onError?: (message: string) => void
}

/**
 * Checkpoints a SQLite database's WAL from a worker thread, so that a commit only appends to the WAL and syncs it.
 *
 * Why: with SQLite's default, the connection whose commit makes the WAL pass 1,000 pages copies them into the
 * database file and syncs it right then, with the event loop blocked (better-sqlite3 is synchronous): on this VM's
 * disk that doubled the time of a busy server's pushes. A PASSIVE checkpoint never blocks the writer or readers.
 *
 * Invariants:
 * - Durability is unchanged: commits still sync the WAL (synchronous=FULL); a checkpoint syncs the database file
 *   before SQLite may reuse the WAL.
 * - The WAL stays bounded: the writer keeps an autocheckpoint of its own at `fallbackPages` (far above what the
 *   worker lets pile up), in case the worker falls behind or fails.
 * - The worker starts only once the WAL has grown to `startAtBytes` (a small database, e.g. a test's, never starts
 *   one) and is stopped before the writer's connection closes (which checkpoints the rest itself).
 */
export class WalCheckpointer {
  private worker: Worker | null = null
  private exited: Promise<void> = Promise.resolve()
  private stopped = false
  private readonly walFile: string
  private readonly intervalMs: number
  private readonly startAtBytes: number

  constructor(
    private readonly file: string,
    private readonly setWriterAutocheckpoint: (pages: number) => void,
    private readonly options: WalCheckpointerOptions = {},
    private readonly fallbackPages = 16_000,
  ) {
    this.walFile = `${file}-wal`
    this.intervalMs = options.intervalMs ?? 100
    this.startAtBytes = options.startAtBytes ?? 4 * 1024 * 1024
  }

  get running(): boolean {
    return this.worker !== null
  }

  /** After a commit: start the worker once the WAL is large enough to be worth it. A stat call otherwise. */
  afterCommit(): void {
    if (this.worker || this.stopped || this.file === ':memory:' || this.file === '') return
    try {
      const size = statSync(this.walFile, { throwIfNoEntry: false })?.size ?? 0
      if (size >= this.startAtBytes) this.start()
    } catch (error) {
      // Never fails a commit that happened: the writer's own autocheckpoint goes on as before.
      this.options.onError?.(String(error))
    }
  }

  start(): void {
    if (this.worker || this.stopped) return
    const driver = createRequire(import.meta.url).resolve('better-sqlite3')
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver, file: this.file, intervalMs: this.intervalMs },
    })
    worker.unref()
    worker.on('message', (message: { error?: string }) => {
      if (message.error) this.options.onError?.(message.error)
    })
    worker.on('error', (error) => this.options.onError?.(String(error)))
    this.exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
    this.worker = worker
    this.setWriterAutocheckpoint(this.fallbackPages)
  }

  /** Stop the worker and wait until its connection is closed. */
  async stop(): Promise<void> {
    this.stopped = true
    const worker = this.worker
    if (!worker) return
    this.worker = null
    // Referenced again until it has exited: the caller waits for it, and an unreferenced worker keeps nothing alive.
    worker.ref()
    worker.postMessage('close')
    await this.exited
  }
}
