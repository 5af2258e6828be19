import { join, relative, sep } from 'node:path'
import express, { Router } from 'express'

/** Files that must be revalidated on every load, or a new version of the app would never be seen. */
const NO_CACHE = new Set(['index.html', 'sw.js', 'registerSW.js', 'manifest.webmanifest'])

/**
 * The built app: hashed `/assets/*` cached for a year, the shell and service-worker files revalidated, and every
 * other GET navigation (a path without a file extension that accepts HTML, outside /api) answered with index.html.
 */
export function staticFiles(staticDir: string): Router {
  const router = Router()
  router.use(
    express.static(staticDir, {
      index: false,
      setHeaders(res, filePath) {
        const path = relative(staticDir, filePath)
        if (path.startsWith(`assets${sep}`))
          res.setHeader('Cache-Control', 'public, max-age=31536000, immutable')
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
