import { existsSync } from 'node:fs'
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

const node = (name: string, extra: Partial<TestProjectInlineConfiguration['test']> = {}) => ({
  extends: true as const,
  test: { name, include: [`tests/${name}/**/*.test.ts`], environment: 'node', ...extra },
})

/**
 * Vant's icon font is inlined as a data: URL with a CDN copy as fallback. The app never loads anything from a CDN
 * (the hills have no signal for it, and the CSP allows fonts only from 'self' and data:), so the fallback goes.
 */
const noCdnFonts = (): Plugin => ({
  name: 'gridpatrol:no-cdn-fonts',
  enforce: 'pre',
  transform(code, id) {
    if (!/[\\/]vant[\\/].*\.css$/.test(id)) return null
    return code.replace(/,\s*url\(\/\/at\.alicdn\.com[^)]*\)\s*format\(["']?woff["']?\)/g, '')
  },
})

export default defineConfig({
  plugins: [
    noCdnFonts(),
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
      node('server'),
      ...(hasChromium
        ? [node('e2e', { testTimeout: 180_000, hookTimeout: 180_000, fileParallelism: false })]
        : []),
    ],
  },
})
