/**
 * Imported first by main.ts, before any module that builds a zod schema: zod decides whether to compile object
 * parsers with `new Function` when a schema is *created*, probing for eval right then. The server's CSP has no
 * 'unsafe-eval', and even a caught probe is reported as a CSP violation, so jitless must be set before the first
 * `z.object(...)` runs (a statement in main.ts's body would come too late: its imports are evaluated first).
 */
import { config } from 'zod'

config({ jitless: true })
