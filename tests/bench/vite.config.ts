/** Builds the in-browser device bench page (tests/bench/browser) into node_modules/.bench-dist. */
import { resolve } from 'node:path'
import { defineConfig } from 'vite'

export default defineConfig({
  root: resolve(import.meta.dirname, 'browser'),
  logLevel: 'warn',
  build: {
    outDir: resolve(import.meta.dirname, '../../node_modules/.bench-dist'),
    emptyOutDir: true,
    target: 'es2022',
    // Readable function names in the CPU profiles that BENCH_PULL_PROFILE asks for (tests/bench/pullPeer.ts).
    minify: !process.env.BENCH_PULL_PROFILE,
  },
})
