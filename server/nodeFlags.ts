/**
 * The Node flags the server process runs with: `npm start` and `npm run serve` pass the same (package.json; a test
 * holds them together), and so do `npm run dev`, the e2e tests' and the bench's server processes.
 *
 * --max-semi-space-size=32 (MB; Node 20's default is 16): a push of 500 households is a 0.5 MB body whose parsed
 * objects live until its transaction ends, and with the default young generation the scavenger copied them again and
 * again. CPU profile of the bench's ingest server (2026-11-23, 80,000 households): garbage collection ~60 ms per
 * 10,000 households with the default, ~30 ms with 32 MB (64 MB: no better). Costs at most 3 × 16 MB more memory.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32']
