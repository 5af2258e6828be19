import { createHash } from 'node:crypto'
import { expect } from 'vitest'

const CHUNK = 256 * 1024

/** The photo API of the server as the contract states it, with knobs to lose a response and to lie in HEAD. */
export class FakePhotoServer {
  held = new Map<string, Buffer>()
  complete = new Set<string>()
  puts: { offset: number; status: number }[] = []
  loseResponseOfPut: number | null = null
  staleHeadOnce: number | null = null
  acceptToken = 'token-1'

  fetch: typeof globalThis.fetch = async (input, init) => {
    const url = new URL(String(input), 'http://device')
    const auth = new Headers(init?.headers).get('Authorization')
    if (auth !== `Bearer ${this.acceptToken}`) return new Response(null, { status: 401 })
    const sha = url.pathname.split('/')[3]!
    if (init?.method === 'HEAD') {
      if (this.complete.has(sha)) return new Response(null, { status: 200 })
      const held = this.held.get(sha)
      if (!held) return new Response(null, { status: 404 })
      const offset = this.staleHeadOnce ?? held.length
      this.staleHeadOnce = null
      // As the real server: a partial upload is 404 with the bytes held in Upload-Offset.
      return new Response(null, { status: 404, headers: { 'Upload-Offset': String(offset) } })
    }
    if ((init?.method ?? 'GET') === 'GET') {
      const bytes = this.complete.has(sha) ? this.held.get(sha) : undefined
      return bytes
        ? new Response(new Uint8Array(bytes), { status: 200 })
        : new Response(null, { status: 404 })
    }
    if (init?.method !== 'PUT') return new Response(null, { status: 405 })
    if (this.complete.has(sha)) return Response.json({ complete: true })
    const size = Number(url.searchParams.get('size'))
    const offset = Number(url.searchParams.get('offset'))
    const body = Buffer.from(init.body as ArrayBuffer)
    expect(body.length).toBeLessThanOrEqual(CHUNK)
    const held = this.held.get(sha) ?? Buffer.alloc(0)
    if (offset !== held.length) {
      this.puts.push({ offset, status: 409 })
      return Response.json({ error: { code: 'offset_mismatch' }, offset: held.length }, { status: 409 })
    }
    const next = Buffer.concat([held, body])
    this.held.set(sha, next)
    this.puts.push({ offset, status: 200 })
    if (this.puts.length === this.loseResponseOfPut) throw new TypeError('network lost')
    if (next.length < size) return Response.json({ complete: false, offset: next.length })
    if (createHash('sha256').update(next).digest('hex') !== sha) {
      this.held.delete(sha)
      return Response.json({ error: { code: 'hash_mismatch' } }, { status: 400 })
    }
    this.complete.add(sha)
    return Response.json({ complete: true })
  }
}
