import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { brotliCompress } from 'node:zlib'
import { defineConfig, type Plugin } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { VantResolver } from '@vant/auto-import-resolver'
import { VitePWA } from 'vite-plugin-pwa'
import type { TestProjectInlineConfiguration } from 'vitest/config'

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const hasChromium = existsSync(chromiumPath)
if (!hasChromium) {
  const message = `\n!!! E2E SKIPPED: no Chromium at ${chromiumPath} (set CHROMIUM_PATH or apt-get install chromium) !!!\n`
  if (process.env.REQUIRE_E2E === '1') throw new Error(message)
  if (process.env.VITEST) console.warn(message)
}

/** The server suite runs a second time against PostgreSQL (project `pg`) when TEST_DATABASE_URL names a database. */
const testDatabaseUrl = process.env.TEST_DATABASE_URL ?? ''
if (!testDatabaseUrl) {
  const message = '\n!!! PG SKIPPED: TEST_DATABASE_URL is not set (see README: PostgreSQL) !!!\n'
  if (process.env.REQUIRE_PG === '1') throw new Error(message)
  if (process.env.VITEST) console.warn(message)
}

const node = (name: string, extra: Partial<TestProjectInlineConfiguration['test']> = {}) => ({
  extends: true as const,
  test: { name, include: [`tests/${name}/**/*.test.ts`], environment: 'node', ...extra },
})

/**
 * Vant's icon font is inlined as a data: URL with a CDN copy as fallback. The app never loads anything from a CDN
 * (the hills have no signal for it, and the CSP allows fonts only from 'self' and data:), so the fallback goes.
 * The inlined font (25 KB that gzip cannot shrink) would sit in the render-blocking stylesheet of every first visit:
 * it becomes a file of its own (hashed, cached immutable, precached by the service worker), fetched once an icon shows.
 */
const noCdnFonts = (): Plugin => ({
  name: 'gridpatrol:no-cdn-fonts',
  enforce: 'pre',
  transform(code, id) {
    if (!/[\\/]vant[\\/].*\.css$/.test(id)) return null
    const css = code.replace(/,\s*url\(\/\/at\.alicdn\.com[^)]*\)\s*format\(["']?woff["']?\)/g, '')
    return css.replace(
      /url\(["']?data:font\/woff2;charset=utf-8;base64,([A-Za-z0-9+/=]+)["']?\)/g,
      (_, base64: string) => {
        // Written where Vite can pick it up as a file; the build names it by its content hash.
        const dir = resolve(import.meta.dirname, 'node_modules/.cache/gridpatrol')
        mkdirSync(dir, { recursive: true })
        writeFileSync(join(dir, 'vant-icon.woff2'), Buffer.from(base64, 'base64'))
        return 'url(/node_modules/.cache/gridpatrol/vant-icon.woff2)'
      },
    )
  },
})

/**
 * Every hashed JS and CSS file also as brotli at its best quality (`.br` beside it), which the server sends as is
 * (server/http/staticFiles.ts): about 14% fewer bytes than the fast setting a response is compressed with on the
 * fly, on the path to the first screen of a phone on a slow rural network.
 */
const precompress = (): Plugin => ({
  name: 'gridpatrol:precompress',
  apply: 'build',
  async writeBundle(options, bundle) {
    const dir = options.dir ?? resolve(import.meta.dirname, 'dist')
    const files = Object.keys(bundle).filter((name) => /^assets\/.*\.(js|css)$/.test(name))
    await Promise.all(
      files.map(async (name) => {
        const source = await readFile(join(dir, name))
        await writeFile(join(dir, `${name}.br`), await promisify(brotliCompress)(source))
      }),
    )
  },
})

/**
 * index.html paints a static first screen before any script runs (see its #app), which needs the HTML and the
 * render-blocking stylesheet only. The app's module script and the modules it preloads are therefore fetched at low
 * priority: they never hold that paint back, and Lighthouse's simulation, which counts a high-priority module script
 * as render-blocking when it cannot see the script's evaluation, does not charge them to the first paint either.
 */
const lowPriorityScripts = (): Plugin => ({
  name: 'gridpatrol:low-priority-scripts',
  apply: 'build',
  transformIndexHtml: {
    order: 'post',
    handler: (html) =>
      html.replace(
        /<(script type="module"|link rel="modulepreload")(?![^>]*fetchpriority)/g,
        '<$1 fetchpriority="low"',
      ),
  },
})

export default defineConfig({
  plugins: [
    noCdnFonts(),
    precompress(),
    lowPriorityScripts(),
    vue(),
    Components({ resolvers: [VantResolver()], dts: 'src/components.d.ts' }),
    VitePWA({
      registerType: 'prompt',
      injectRegister: false,
      manifest: {
        name: '网格巡查 GridPatrol',
        short_name: '网格巡查',
        description: '乡村网格员离线巡查采集与事件闭环',
        lang: 'zh-CN',
        theme_color: '#1677ff',
        background_color: '#ffffff',
        display: 'standalone',
        start_url: '/',
        scope: '/',
        screenshots: [
          {
            src: 'screenshots/home.png',
            sizes: '390x844',
            type: 'image/png',
            form_factor: 'narrow',
            label: '首页：同步状态',
          },
          {
            src: 'screenshots/map.png',
            sizes: '390x844',
            type: 'image/png',
            form_factor: 'narrow',
            label: '全域一张图',
          },
        ],
        icons: [
          { src: 'pwa-192x192.png', sizes: '192x192', type: 'image/png' },
          { src: 'pwa-512x512.png', sizes: '512x512', type: 'image/png' },
          { src: 'maskable-512x512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,png,woff2}'],
        globIgnores: ['screenshots/**'],
        navigateFallback: 'index.html',
        // API calls must reach the network (or fail) and never get the app shell.
        navigateFallbackDenylist: [/^\/api\//],
        cleanupOutdatedCaches: true,
        runtimeCaching: [
          {
            // Basemap tiles the user has viewed, for offline use; nothing is prefetched.
            urlPattern: ({ request, sameOrigin }) => !sameOrigin && request.destination === 'image',
            handler: 'CacheFirst',
            options: {
              cacheName: 'map-tiles',
              expiration: { maxEntries: 3000, maxAgeSeconds: 60 * 60 * 24 * 30 },
              cacheableResponse: { statuses: [0, 200] },
            },
          },
        ],
      },
    }),
  ],
  define: {
    // vue-i18n's feature flags: composition API only, no devtools in production.
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  server: {
    proxy: { '/api': `http://127.0.0.1:${process.env.API_PORT ?? 3000}` },
  },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 700,
  },
  test: {
    server: { deps: { inline: ['vant'] } },
    projects: [
      node('unit'),
      node('db', { setupFiles: ['fake-indexeddb/auto'] }),
      node('component', { environment: 'happy-dom', setupFiles: ['fake-indexeddb/auto'] }),
      node('server', { env: { TEST_DATABASE_URL: '' } }),
      ...(testDatabaseUrl
        ? [
            node('pg', {
              include: ['tests/server/**/*.test.ts', 'tests/pg/**/*.test.ts'],
              env: { TEST_DATABASE_URL: testDatabaseUrl },
              globalSetup: ['tests/pg/globalSetup.ts'],
            }),
          ]
        : []),
      ...(hasChromium
        ? [node('e2e', { testTimeout: 180_000, hookTimeout: 180_000, fileParallelism: false })]
        : []),
      // Lighthouse's performance score scales the CPU time it observes: `npm test` runs this project on its own,
      // after all the others, so that their work does not count as the app's (see tests/audit/lighthouse.test.ts).
      // Without Chromium it holds no file (and `npm test` passes it with the E2E SKIPPED warning above).
      node(
        'audit',
        hasChromium
          ? { testTimeout: 600_000, hookTimeout: 180_000, fileParallelism: false }
          : { include: [] },
      ),
    ],
  },
})
