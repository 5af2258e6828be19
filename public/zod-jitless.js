/*
 * Runs before any module of the app: a deferred classic script placed before them in index.html (deferred and module
 * scripts run in document order, and neither holds the first paint back). zod must not probe for `new Function`,
 * which the CSP (no 'unsafe-eval') reports as a violation even when the probe's error is caught. zod reads this
 * global config when it loads; src/zodJitless.ts sets the same flag, but the bundler may evaluate a shared chunk's
 * schemas before that module runs.
 */
globalThis.__zod_globalConfig = Object.assign(globalThis.__zod_globalConfig || {}, { jitless: true })
