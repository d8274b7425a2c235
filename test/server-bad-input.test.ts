// Bad input over the network, on raw sockets where fetch would hide it: a
// huge body refused (413) before it is sent in full, a client that sends
// its headers then stalls cut by the request timeout while others are
// served, and the typed 400/401/403/404 answers that write nothing.
import * as net from 'node:net'
import { describe, expect, it } from 'vitest'
import { hashToken } from '../src/server/index.js'
import { errorOf, served, TOKEN_ENTRIES, TOKENS } from './server-helpers.js'

const A = TOKENS.admin

/** Opens a raw connection and resolves with everything the server sent until it closed (or `ms` passed). */
function rawExchange(port: number, head: string, body: string, ms: number): { done: Promise<{ text: string; closed: boolean; afterMs: number }>; socket: net.Socket } {
  const socket = net.connect(port, '127.0.0.1')
  const t0 = Date.now()
  const done = new Promise<{ text: string; closed: boolean; afterMs: number }>((resolve) => {
    let text = ''
    const timer = setTimeout(() => {
      socket.destroy()
      resolve({ text, closed: false, afterMs: Date.now() - t0 })
    }, ms)
    socket.on('data', (d: Buffer) => (text += d.toString()))
    socket.on('close', () => {
      clearTimeout(timer)
      resolve({ text, closed: true, afterMs: Date.now() - t0 })
    })
    socket.on('error', () => {})
  })
  socket.write(head + body)
  return { done, socket }
}

describe('bad input over the network', () => {
  it('answers malformed JSON and wrong types with 400, unknown routes (after auth) with 404, writing nothing', async () => {
    const s = await served()
    const cases: Array<[string, Promise<Response>, number, string]> = [
      ['malformed JSON', s.req('POST', '/v1/batch', { token: A, raw: '{"items": [', headers: { 'content-type': 'application/json' } }), 400, 'E_INVALID_ARGUMENT'],
      ['an array body', s.req('POST', '/v1/append', { token: A, body: [1, 2] }), 400, 'E_INVALID_ARGUMENT'],
      ['a number for entity', s.req('POST', '/v1/append', { token: A, body: { entity: 7, scope: 'shop', kind: 0x1001, payload: 1 } }), 400, 'E_INVALID_ARGUMENT'],
      ['a string for items', s.req('POST', '/v1/batch', { token: A, body: { items: 'all' } }), 400, 'E_INVALID_ARGUMENT'],
      ['a negative after', s.req('POST', '/v1/query', { token: A, body: { region: {}, after: '-1' } }), 400, 'E_INVALID_ARGUMENT'],
      ['a non-numeric limit', s.req('GET', '/v1/streams/x?limit=lots', { token: A }), 400, 'E_INVALID_ARGUMENT'],
      ['an unknown route', s.req('POST', '/v1/append-everything', { token: A, body: {} }), 404, 'E_NOT_FOUND'],
    ]
    for (const [what, res, status, code] of cases) expect(await errorOf(await res), what).toMatchObject({ status, code })
    expect(s.store.stats().events).toBe(0)
  })

  it('answers a wrong token 401, an expired token 401, and a token without the role 403, writing nothing', async () => {
    const s = await served({ tokens: [...TOKEN_ENTRIES, { id: 'gone', hash: hashToken('gone-token'), roles: ['admin'], expiresAt: '2020-02-02' }] })
    const body = { entity: 'x', scope: 'shop', kind: 0x1001, payload: 1 }
    expect(await errorOf(await s.req('POST', '/v1/append', { token: 'nope', body }))).toMatchObject({ status: 401, code: 'E_UNAUTHORIZED' })
    const expired = await errorOf(await s.req('POST', '/v1/append', { token: 'gone-token', body }))
    expect(expired).toMatchObject({ status: 401, code: 'E_UNAUTHORIZED', message: expect.stringContaining('expired') })
    expect(await errorOf(await s.req('POST', '/v1/append', { token: TOKENS.reader, body }))).toMatchObject({ status: 403, code: 'E_FORBIDDEN' })
    expect(s.store.stats().events).toBe(0)
  })

  it('refuses a huge body with 413 from its Content-Length, before the body is sent', async () => {
    const s = await served({ bodyLimit: 64 * 1024 })
    const port = Number(new URL(s.server.url).port)
    const head = `POST /v1/append HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${A}\r\nContent-Type: application/json\r\nContent-Length: ${1 << 30}\r\n\r\n`
    // 1 GiB announced, 10 bytes sent: an answer means the server did not wait for the rest.
    const { done } = rawExchange(port, head, '{"entity":', 5000)
    const r = await done
    expect(r.text).toMatch(/^HTTP\/1\.1 413/)
    expect(r.text).toContain('E_PAYLOAD_TOO_LARGE')
    expect(r.afterMs).toBeLessThan(4000)
    expect(s.store.stats().events).toBe(0)
  })

  it('cuts a client that sends its headers then stalls, at the request timeout, while answering others', async () => {
    const s = await served({ requestTimeoutMs: 400 })
    const port = Number(new URL(s.server.url).port)
    const head = `POST /v1/append HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${A}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n`
    const { done } = rawExchange(port, head, '{"entity":"slow"', 5000)
    // Meanwhile: others are served at once.
    const t0 = Date.now()
    expect((await s.req('GET', '/health', { token: A })).status).toBe(200)
    expect(Date.now() - t0).toBeLessThan(300)
    const r = await done
    expect(r.closed, 'the stalled connection was not closed').toBe(true)
    expect(r.afterMs).toBeGreaterThanOrEqual(350)
    expect(r.afterMs).toBeLessThan(3000)
    expect(r.text).toMatch(/^HTTP\/1\.1 408/)
    expect(r.text).toContain('"code":"E_INVALID_ARGUMENT"')
    expect(s.store.stats().events).toBe(0)
    expect((await s.req('GET', '/health', { token: A })).status).toBe(200)
  })
})
