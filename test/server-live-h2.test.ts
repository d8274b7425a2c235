// Live delivery over HTTP/2 (TLS): an SSE stream is one HTTP/2 stream of a
// session. Catches a live route that writes HTTP/1.1-only headers
// (Connection, Transfer-Encoding: a protocol error in HTTP/2), frames cut at
// stream boundaries, a resume with Last-Event-ID that repeats or skips, and
// close() waiting on an open HTTP/2 SSE stream.
import * as http2 from 'node:http2'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind } from '../src/index.js'
import { tempDir } from './helpers.js'
import { served, testCertificate, TOKENS } from './server-helpers.js'

const K = EventKind.custom(1, 1)

interface H2Sse {
  status: Promise<number>
  /** Data frames (id, payload.i) until `n` have arrived, or throws after 5 s. */
  take(n: number): Promise<{ id: string; i: number }[]>
  close(): void
}

function openH2Sse(session: http2.ClientHttp2Session, pathname: string, headers: Record<string, string>): H2Sse {
  const req = session.request({ ':path': pathname, authorization: `Bearer ${TOKENS.reader}`, accept: 'text/event-stream', ...headers })
  const frames: { id: string; i: number }[] = []
  let buf = ''
  let wake: (() => void) | undefined
  req.setEncoding('utf8')
  req.on('data', (chunk: string) => {
    buf += chunk
    let at: number
    while ((at = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, at)
      buf = buf.slice(at + 2)
      const id = /^id: ?(.*)$/m.exec(block)?.[1]
      const data = /^data: ?(.*)$/m.exec(block)?.[1]
      if (id !== undefined && data !== undefined && /^event: ?event$/m.test(block)) frames.push({ id, i: JSON.parse(data).payload.i })
    }
    wake?.()
  })
  const status = new Promise<number>((resolve, reject) => {
    req.on('response', (h) => resolve(Number(h[':status'])))
    req.on('error', reject)
  })
  return {
    status,
    async take(n) {
      const deadline = Date.now() + 5000
      while (frames.length < n) {
        if (Date.now() > deadline) throw new Error(`only ${frames.length} of ${n} SSE frames over HTTP/2 within 5 s`)
        await new Promise<void>((r) => {
          wake = r
          setTimeout(r, 100)
        })
      }
      return frames.splice(0, n)
    },
    close: () => req.close(),
  }
}

describe('SSE live delivery over HTTP/2', () => {
  it('streams appends on an HTTP/2 stream and resumes after Last-Event-ID with no gap and no repeat; close() does not wait on the open stream', async (ctx) => {
    const made = testCertificate(tempDir('live-h2'))
    if ('skip' in made) return ctx.skip(made.skip)
    const { cert, key } = made
    const s = await served({ tls: { cert, key }, http2: true, heartbeatMs: 50 })
    const session = http2.connect(s.server.url, { ca: cert })
    session.on('error', () => {})
    try {
      const first = openH2Sse(session, '/v1/live', {})
      expect(await first.status).toBe(200)
      for (let i = 0; i < 6; i++) s.store.append(new Coordinate(`o:${i}`, 'shop'), K, { i })
      const got = await first.take(6)
      expect(got.map((f) => f.i)).toEqual([0, 1, 2, 3, 4, 5])
      first.close()
      for (let i = 6; i < 9; i++) s.store.append(new Coordinate(`o:${i}`, 'shop'), K, { i })
      // A second stream on the same session resumes after the third event.
      const again = openH2Sse(session, '/v1/live?after=0', { 'last-event-id': got[2]!.id })
      expect(await again.status).toBe(200)
      expect((await again.take(6)).map((f) => f.i)).toEqual([3, 4, 5, 6, 7, 8])
      // Left open: the server's close must end it rather than wait for it.
      const t0 = Date.now()
      await s.server.close()
      expect(Date.now() - t0).toBeLessThan(5000)
    } finally {
      session.destroy()
    }
  })
})
