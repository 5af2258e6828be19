import { performance } from 'node:perf_hooks'
import type { RequestHandler } from 'express'
import type { Logger } from 'pino'
import { callerOf } from './requestContext.ts'

/** One structured line per request: method, path, status, ms, and the user and device when known. */
export function requestLogger(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const start = performance.now()
    res.on('finish', () => {
      const line = {
        method: req.method,
        path: req.originalUrl.split('?')[0],
        status: res.statusCode,
        ms: Math.round((performance.now() - start) * 10) / 10,
        ...callerOf(res),
      }
      if (res.statusCode >= 500) logger.error(line, 'request')
      else logger.info(line, 'request')
    })
    next()
  }
}
