/**
 * `npm run dev`: the API server (restarting on change) and Vite's dev server (proxying /api to it), together.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { SERVER_NODE_FLAGS } from './nodeFlags.ts'

const apiPort = process.env.API_PORT ?? '3000'
const children: ChildProcess[] = [
  spawn(process.execPath, [...SERVER_NODE_FLAGS, '--import', 'tsx', '--watch', 'server/index.ts'], {
    stdio: 'inherit',
    env: { ...process.env, PORT: apiPort, HOST: '127.0.0.1' },
  }),
  spawn(process.execPath, ['node_modules/vite/bin/vite.js'], {
    stdio: 'inherit',
    env: { ...process.env, API_PORT: apiPort },
  }),
]

function stop(code = 0): void {
  for (const child of children) child.kill('SIGTERM')
  process.exit(code)
}
process.on('SIGINT', () => stop())
process.on('SIGTERM', () => stop())
for (const child of children) child.on('exit', (code) => stop(code ?? 0))
