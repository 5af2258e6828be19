import { existsSync } from 'node:fs'
import { extname, join, relative, sep } from 'node:path'
import express, { Router } from 'express'

/** Files that must be revalidated on every load, or a new version of the app would never be seen. */
const NO_CACHE = new Set(['index.html', 'sw.js', 'registerSW.js', 'manifest.webmanifest'])
const IMMUTABLE = 'public, max-age=31536000, immutable'

/**
 * The built app: hashed `/assets/*` cached for a year, the shell and service-worker files revalidated, and every
 * other GET navigation (a path without a file extension that accepts HTML, outside /api) answered with index.html.
 */
export function staticFiles(staticDir: string): Router {
  const router = Router()
  router.use('/assets', precompressed(join(staticDir, 'assets')))
  router.use(
    express.static(staticDir, {
      index: false,
      setHeaders(res, filePath) {
        const path = relative(staticDir, filePath)
        if (path.startsWith(`assets${sep}`)) res.setHeader('Cache-Control', IMMUTABLE)
        else if (NO_CACHE.has(path)) res.setHeader('Cache-Control', 'no-cache')
      },
    }),
  )
  router.get('/{*splat}', (req, res, next) => {
    const last = req.path.split('/').pop() ?? ''
    if (req.path === '/api' || req.path.startsWith('/api/') || last.includes('.') || !req.accepts('html')) {
      next()
      return
    }
    res.setHeader('Cache-Control', 'no-cache')
    res.sendFile(join(staticDir, 'index.html'), (error) => {
      if (error) next(error)
    })
  })
  return router
}

/**
 * Hashed JS and CSS that the build also wrote brotli-compressed at its best quality (`<file>.br`, see vite.config.ts)
 * go out as that file to a client that accepts br: smaller than the compression middleware's fast on-the-fly brotli,
 * and no CPU per request. The middleware leaves a response that already has a Content-Encoding alone; everything
 * else (no .br, no br in Accept-Encoding) falls through to express.static.
 */
function precompressed(assetsDir: string): express.RequestHandler {
  return (req, res, next) => {
    const type = extname(req.path)
    if ((req.method !== 'GET' && req.method !== 'HEAD') || (type !== '.js' && type !== '.css')) return next()
    const file = join(assetsDir, req.path)
    if (!file.startsWith(assetsDir + sep) || !existsSync(`${file}.br`)) return next()
    res.vary('Accept-Encoding')
    if (!req.acceptsEncodings('br')) return next()
    res.type(type)
    res.setHeader('Content-Encoding', 'br')
    res.setHeader('Cache-Control', IMMUTABLE)
    res.sendFile(`${file}.br`, { cacheControl: false }, (error) => {
      if (error) next(error)
    })
  }
}
