/**
 * Renders the app icons in public/ from one SVG mark (a map grid under a location pin, theme colour #1677ff) with
 * Debian's Chromium through playwright-core. Run: `node --import tsx tests/tools/makeIcons.ts` (CHROMIUM_PATH to override).
 * The maskable icon keeps the mark inside the central 80% circle (the safe zone), on a full-bleed background.
 */
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { chromium } from 'playwright-core'

const PUBLIC = resolve(import.meta.dirname, '../../public')
const THEME = '#1677ff'

/** The mark on a 512 × 512 canvas. */
const MARK = `
  <g fill="none" stroke="#fff" stroke-width="18" opacity=".6" stroke-linejoin="round">
    <rect x="100" y="150" width="312" height="262" rx="28"/>
    <path d="M204 150v262M308 150v262M100 237h312M100 325h312"/>
  </g>
  <path d="M256 64c-64 0-116 50-116 113 0 86 116 203 116 203s116-117 116-203c0-63-52-113-116-113z"
        fill="#fff" stroke="${THEME}" stroke-width="14"/>
  <circle cx="256" cy="178" r="44" fill="${THEME}"/>`

function svg(options: { fullBleed: boolean; scale: number }): string {
  const background = options.fullBleed
    ? `<rect width="512" height="512" fill="${THEME}"/>`
    : `<rect width="512" height="512" rx="112" fill="${THEME}"/>`
  const offset = (512 * (1 - options.scale)) / 2
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">${background}<g transform="translate(${offset} ${offset}) scale(${options.scale})">${MARK}</g></svg>`
}

const ICONS = [
  { file: 'pwa-192x192.png', size: 192, fullBleed: false, scale: 1 },
  { file: 'pwa-512x512.png', size: 512, fullBleed: false, scale: 1 },
  // The mark's farthest corner is ~232 px from the centre: at 0.8 it stays inside the safe circle (r = 40%, 205 px).
  { file: 'maskable-512x512.png', size: 512, fullBleed: true, scale: 0.8 },
  { file: 'apple-touch-icon.png', size: 180, fullBleed: true, scale: 0.86 },
] as const

async function main(): Promise<void> {
  const favicon = svg({ fullBleed: false, scale: 1 })
  writeFileSync(join(PUBLIC, 'favicon.svg'), `${favicon}\n`)
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
  try {
    const page = await browser.newPage()
    for (const icon of ICONS) {
      await page.setViewportSize({ width: icon.size, height: icon.size })
      const markup = svg(icon).replace('<svg ', `<svg width="${icon.size}" height="${icon.size}" `)
      await page.setContent(
        `<!doctype html><html><body style="margin:0;background:transparent">${markup}</body></html>`,
      )
      const png = await page.screenshot({
        omitBackground: !icon.fullBleed,
        clip: { x: 0, y: 0, width: icon.size, height: icon.size },
      })
      writeFileSync(join(PUBLIC, icon.file), png)
      console.log(`public/${icon.file} (${icon.size}×${icon.size}, ${png.length} bytes)`)
    }
  } finally {
    await browser.close()
  }
}

await main()
