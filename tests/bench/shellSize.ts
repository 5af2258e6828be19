/**
 * The app shell's size as a phone first downloads it: the JavaScript and CSS that the built index.html loads before
 * the first screen (its module script, the modules it preloads, its stylesheets), gzip-compressed as served.
 * Lazy routes (map, dashboard, admin) are not counted: they load when opened.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import { build } from 'vite'

export interface ShellSize {
  jsGzip: number
  cssGzip: number
  files: number
}

/** Build the app into a temporary directory and measure what its index.html loads up front. */
export async function measureShell(): Promise<ShellSize> {
  const outDir = mkdtempSync(join(tmpdir(), 'gridpatrol-shell-'))
  try {
    await build({
      configFile: resolve(import.meta.dirname, '../../vite.config.ts'),
      logLevel: 'warn',
      build: { outDir },
    })
    const html = readFileSync(join(outDir, 'index.html'), 'utf8')
    const assets = [
      ...html.matchAll(/<script[^>]+type="module"[^>]+src="([^"]+)"/g),
      ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g),
      ...html.matchAll(/<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"/g),
    ].map((match) => match[1]!)
    let jsGzip = 0
    let cssGzip = 0
    for (const asset of new Set(assets)) {
      const size = gzipSync(readFileSync(join(outDir, asset.replace(/^\//, '')))).length
      if (asset.endsWith('.css')) cssGzip += size
      else jsGzip += size
    }
    return { jsGzip, cssGzip, files: new Set(assets).size }
  } finally {
    rmSync(outDir, { recursive: true, force: true })
  }
}
