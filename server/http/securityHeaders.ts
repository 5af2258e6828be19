import type { RequestHandler } from 'express'
import helmet from 'helmet'

/**
 * The origin to allow for basemap tiles, as a CSP source: `https://tile.openstreetmap.org`; a template host such as
 * `{s}.tile.example.com` becomes `*.tile.example.com`. Null when there is no basemap or it is served from here.
 */
export function basemapSource(basemapUrl: string): string | null {
  if (basemapUrl === '' || basemapUrl.startsWith('/')) return null
  const match = /^(https?:)\/\/([^/?#]+)/.exec(basemapUrl)
  if (!match) return null
  const [, scheme, host] = match as unknown as [string, string, string]
  const labels = host.split('.')
  if (labels.slice(1).some((l) => l.includes('{'))) return scheme // a placeholder deeper in the host: scheme only
  if (labels[0]!.includes('{')) labels[0] = '*'
  return `${scheme}//${labels.join('.')}`
}

/** The Content-Security-Policy directives: nothing inline, nothing from elsewhere but the basemap's tiles. */
export function cspDirectives(basemapUrl: string): Record<string, string[]> {
  const tiles = basemapSource(basemapUrl)
  const withTiles = (...sources: string[]) => (tiles ? [...sources, tiles] : sources)
  return {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'style-src': ["'self'"],
    // Vant's icon font is inlined in its CSS as a data: URL.
    'font-src': ["'self'", 'data:'],
    'img-src': withTiles("'self'", 'data:', 'blob:'),
    // The service worker fetches the tiles it caches: that is a connect from its own (same) policy.
    'connect-src': withTiles("'self'"),
    'worker-src': ["'self'"],
    'manifest-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'self'"],
    'frame-ancestors': ["'none'"],
    'form-action': ["'self'"],
  }
}

/**
 * Security headers on every response (helmet): a strict CSP without 'unsafe-inline' anywhere, nosniff, frame
 * denial, HSTS (honoured only over HTTPS). The referrer policy keeps the browser default, which tells the tile
 * server our origin: OpenStreetMap's tile policy requires a Referer.
 */
export function securityHeaders(basemapUrl: string): RequestHandler {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: cspDirectives(basemapUrl) },
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
  }) as RequestHandler
}
