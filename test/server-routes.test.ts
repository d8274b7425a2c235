// The service's routes (causeway/server) over real HTTP on 127.0.0.1:
// append, get, stream and query with paging, batch, conditional append,
// typed errors that write nothing and leave the server serving, MessagePack
// with bigints, stats and metrics, admin snapshot and compact, close.
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as http2 from 'node:http2'
import * as https from 'node:https'
import * as path from 'node:path'
import { Packr, Unpackr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { tempDir } from './helpers.js'
import { errorOf, served, testCertificate, TOKENS } from './server-helpers.js'

const A = TOKENS.admin

async function append(s: Awaited<ReturnType<typeof served>>, entity: string, n: number, extra: Record<string, unknown> = {}) {
  const r = await s.req('POST', '/v1/append', { token: A, body: { entity, scope: 'shop', kind: 0x1001, payload: { n }, ...extra } })
  expect(r.status, await r.clone().text()).toBe(200)
  return (await r.json()) as { eventId: string; globalSequence: string; clock: number }
}

describe('service routes', () => {
  it('appends, then reads the event back by id with bigints as decimal strings', async () => {
    const s = await served()
    const rc = await append(s, 'order:1', 1, { options: { tags: ['customer:7'], idempotencyKey: 'k1' } })
    expect(rc).toMatchObject({ globalSequence: '0', clock: 1 })
    const again = await s.req('POST', '/v1/append', { token: A, body: { entity: 'order:1', scope: 'shop', kind: 0x1001, payload: { n: 1 }, options: { idempotencyKey: 'k1' } } })
    expect(await again.json()).toMatchObject({ eventId: rc.eventId, deduplicated: true })
    const got = await s.req('GET', `/v1/events/${rc.eventId}`, { token: A })
    expect(got.status).toBe(200)
    expect(await got.json()).toMatchObject({ eventId: rc.eventId, globalSequence: '0', entity: 'order:1', scope: 'shop', kind: 0x1001, payload: { n: 1 }, tags: ['customer:7'] })
    expect(s.store.get(rc.eventId)?.payload).toEqual({ n: 1 })
  })

  it('pages a stream forward and backward with limit and next, and a query with after = next', async () => {
    const s = await served()
    for (let i = 1; i <= 5; i++) await append(s, 'order:2', i)
    await append(s, 'order:3', 99)
    const page1 = (await (await s.req('GET', '/v1/streams/order:2?limit=2', { token: A })).json()) as { events: Array<{ clock: number }>; next: number | null }
    expect(page1.events.map((e) => e.clock)).toEqual([1, 2])
    expect(page1.next).toBe(2)
    const rest = (await (await s.req('GET', `/v1/streams/order:2?fromClock=${page1.next! + 1}&limit=10`, { token: A })).json()) as typeof page1
    expect(rest.events.map((e) => e.clock)).toEqual([3, 4, 5])
    expect(rest.next).toBeNull()
    const back = (await (await s.req('GET', '/v1/streams/order:2?reverse=true&limit=2', { token: A })).json()) as typeof page1
    expect(back.events.map((e) => e.clock)).toEqual([5, 4])

    const seen: string[] = []
    let after: string | null = null
    for (let pages = 0; pages < 10; pages++) {
      const r = await s.req('POST', '/v1/query', { token: A, body: { region: { entity: 'order', scope: 'shop' }, limit: 4, ...(after ? { after } : {}) } })
      const body = (await r.json()) as { events: Array<{ globalSequence: string }>; next: string | null }
      seen.push(...body.events.map((e) => e.globalSequence))
      if (body.next === null) break
      after = body.next
    }
    expect(seen).toEqual(['0', '1', '2', '3', '4', '5'])
  })

  it('answers a DCB query ({ items: [{ types, tags }] }) with the events of any item', async () => {
    const s = await served()
    await append(s, 'course:1', 1, { options: { tags: ['course:c1'] } })
    await append(s, 'course:2', 2, { options: { tags: ['course:c2'] } })
    await append(s, 'student:1', 3, { options: { tags: ['student:s1'] } })
    const r = await s.req('POST', '/v1/query', { token: A, body: { query: { items: [{ tags: ['course:c1'] }, { types: [0x1001], tags: ['student:s1'] }] } } })
    expect(r.status).toBe(200)
    const body = (await r.json()) as { events: Array<{ payload: { n: number } }> }
    expect(body.events.map((e) => e.payload.n)).toEqual([1, 3])
  })

  it('appends a batch atomically: a bad item refuses the whole batch and writes nothing', async () => {
    const s = await served()
    const ok = await s.req('POST', '/v1/batch', {
      token: A,
      body: { items: [{ entity: 'a', scope: 'shop', kind: 0x1001, payload: 1 }, { entity: 'b', scope: 'shop', kind: 0x1001, payload: 2, causation: { priorItem: 0 } }] },
    })
    const { receipts } = (await ok.json()) as { receipts: Array<{ eventId: string; causationId: string | null }> }
    expect(receipts).toHaveLength(2)
    expect(receipts[1]!.causationId).toBe(receipts[0]!.eventId)
    const bad = await s.req('POST', '/v1/batch', { token: A, body: { items: [{ entity: 'c', scope: 'shop', kind: 0x1001, payload: 3 }, { entity: '', scope: 'shop', kind: 0x1001, payload: 4 }] } })
    expect(await errorOf(bad)).toMatchObject({ status: 400, code: 'E_INVALID_COORDINATE' })
    expect(s.store.stats().events).toBe(2)
  })

  it('answers an append-if whose condition matched with 409 E_APPEND_CONDITION and the conflict, writing nothing', async () => {
    const s = await served()
    const body = (after: string | null) => ({
      items: [{ entity: 'enrol:1', scope: 'shop', kind: 0x1002, payload: {}, tags: ['course:c1'] }],
      condition: { query: { items: [{ tags: ['course:c1'] }] }, after },
    })
    const first = await s.req('POST', '/v1/append-if', { token: A, body: body(null) })
    expect(first.status).toBe(200)
    const conflict = await s.req('POST', '/v1/append-if', { token: A, body: body(null) })
    expect(conflict.status).toBe(409)
    expect(((await conflict.json()) as { error: unknown }).error).toMatchObject({ code: 'E_APPEND_CONDITION', conflictSequence: '0' })
    const region = await s.req('POST', '/v1/append-if', { token: A, body: { ...body('0'), condition: { region: { scope: 'shop', tags: ['course:c1'] }, after: '0' } } })
    expect(region.status).toBe(200)
    expect(s.store.stats().events).toBe(2)
  })

  it('answers a stale expectedSequence with 409 E_SEQUENCE_MISMATCH naming expected and actual', async () => {
    const s = await served()
    await append(s, 'order:9', 1)
    const r = await s.req('POST', '/v1/append', { token: A, body: { entity: 'order:9', scope: 'shop', kind: 0x1001, payload: 2, options: { expectedSequence: 0 } } })
    expect(r.status).toBe(409)
    expect(((await r.json()) as { error: unknown }).error).toMatchObject({ code: 'E_SEQUENCE_MISMATCH', entity: 'order:9', expected: 0, actual: 1 })
    expect(s.store.clockOf('order:9')).toBe(1)
  })

  it('answers bad input with typed JSON errors, writes nothing, and keeps serving', async () => {
    const s = await served({ bodyLimit: 4096 })
    const cases: Array<[string, Promise<Response>, number, string]> = [
      ['malformed JSON', s.req('POST', '/v1/append', { token: A, raw: '{"entity": ', headers: { 'content-type': 'application/json' } }), 400, 'E_INVALID_ARGUMENT'],
      ['a body over bodyLimit', s.req('POST', '/v1/append', { token: A, body: { entity: 'x', scope: 'shop', kind: 0x1001, payload: 'y'.repeat(10_000) } }), 413, 'E_PAYLOAD_TOO_LARGE'],
      ['an unknown route', s.req('GET', '/v1/nothing', { token: A }), 404, 'E_NOT_FOUND'],
      ['an unknown key', s.req('POST', '/v1/append', { token: A, body: { entity: 'x', scope: 'shop', kind: 0x1001, payload: 1, colour: 'red' } }), 400, 'E_INVALID_ARGUMENT'],
      ['a reserved kind', s.req('POST', '/v1/append', { token: A, body: { entity: 'x', scope: 'shop', kind: 0xd001, payload: 1 } }), 400, 'E_INVALID_KIND'],
      ['an unknown type name', s.req('POST', '/v1/append', { token: A, body: { entity: 'x', scope: 'shop', type: 'no.such', payload: 1 } }), 400, 'E_UNKNOWN_TYPE'],
      ['a bad tag', s.req('POST', '/v1/append', { token: A, body: { entity: 'x', scope: 'shop', kind: 0x1001, payload: 1, options: { tags: [''] } } }), 400, 'E_INVALID_TAG'],
      ['an empty DCB query', s.req('POST', '/v1/query', { token: A, body: { query: { items: [] } } }), 400, 'E_INVALID_QUERY'],
      ['a limit over the maximum', s.req('POST', '/v1/query', { token: A, body: { region: {}, limit: 100_000 } }), 400, 'E_INVALID_ARGUMENT'],
      ['a malformed event id', s.req('GET', '/v1/events/not-a-uuid', { token: A }), 400, 'E_INVALID_ARGUMENT'],
      ['an unknown event id', s.req('GET', '/v1/events/01890a5d-ac96-774b-bcce-b302099a8057', { token: A }), 404, 'E_NOT_FOUND'],
      ['an unsupported content type', s.req('POST', '/v1/append', { token: A, raw: 'x', headers: { 'content-type': 'text/csv' } }), 415, 'E_INVALID_ARGUMENT'],
    ]
    for (const [what, res, status, code] of cases) expect(await errorOf(await res), what).toMatchObject({ status, code })
    expect(s.store.stats().events).toBe(0)
    expect((await s.req('GET', '/health', { token: A })).status).toBe(200)
  })

  it("answers a payload over the store's maxPayloadBytes with 413 E_PAYLOAD_TOO_LARGE", async () => {
    const s = await served({}, { maxPayloadBytes: 1024 })
    const r = await s.req('POST', '/v1/append', { token: A, body: { entity: 'x', scope: 'shop', kind: 0x1001, payload: 'z'.repeat(2000) } })
    expect(await errorOf(r)).toMatchObject({ status: 413, code: 'E_PAYLOAD_TOO_LARGE' })
  })

  it('round-trips MessagePack: bigint sequences, bytes and dates both ways', async () => {
    const s = await served()
    const packr = new Packr({ useRecords: false })
    const unpackr = new Unpackr({ useRecords: false, int64AsType: 'bigint' })
    const mp = { 'content-type': 'application/msgpack', accept: 'application/msgpack' }
    const post = async (url: string, body: unknown) => {
      const r = await s.req('POST', url, { token: A, raw: packr.pack(body), headers: mp })
      expect(r.headers.get('content-type')).toContain('application/msgpack')
      return { status: r.status, body: unpackr.unpack(Buffer.from(await r.arrayBuffer())) as Record<string, unknown> }
    }
    const bytes = Buffer.from([0, 1, 2, 255])
    const at = new Date('2024-05-06T07:08:09.010Z')
    for (let i = 0; i < 3; i++) {
      const rc = await post('/v1/append', { entity: 'bin:1', scope: 'shop', kind: 0x1001, payload: { bytes, i }, options: { occurredAt: at } })
      expect(rc.status).toBe(200)
      expect(rc.body.globalSequence).toBe(BigInt(i))
    }
    const q = await post('/v1/query', { region: { entity: 'bin:1' }, after: 0n, limit: 1 })
    const events = q.body.events as Array<Record<string, unknown>>
    expect(events[0]!.globalSequence).toBe(1n)
    expect(q.body.next).toBe(1n)
    expect(Buffer.from((events[0]!.payload as { bytes: Uint8Array }).bytes)).toEqual(bytes)
    expect(events[0]!.occurredAtUs).toBe(at.getTime() * 1000)
    const json = (await (await s.req('POST', '/v1/query', { token: A, body: { region: { entity: 'bin:1' }, limit: 1 } })).json()) as { events: Array<{ payload: { bytes: unknown } }> }
    expect(json.events[0]!.payload.bytes).toEqual({ $base64: bytes.toString('base64') })
    const bad = await s.req('POST', '/v1/append', { token: A, raw: Buffer.from([0xc1]), headers: mp })
    expect(bad.status).toBe(400)
  })

  it('serves stats, Prometheus metrics, health and readiness', async () => {
    const s = await served()
    await append(s, 'm:1', 1)
    const stats = (await (await s.req('GET', '/v1/stats', { token: A })).json()) as Record<string, unknown>
    expect(stats).toMatchObject({ events: 1, nextSequence: '1', role: 'writer' })
    const m = await s.req('GET', '/metrics', { token: A })
    expect(m.headers.get('content-type')).toContain('text/plain')
    expect(await m.text()).toMatch(/causeway_appends_total 1/)
    expect(await (await s.req('GET', '/health', { token: A })).json()).toEqual({ status: 'ok' })
    expect((await s.req('GET', '/ready', { token: A })).status).toBe(200)
  })

  it('writes an admin snapshot only inside backupDir, and compacts', async () => {
    const backupDir = tempDir('serve-backups')
    const s = await served({ backupDir })
    await append(s, 'snap:1', 1)
    const ok = await s.req('POST', '/v1/admin/snapshot', { token: A, body: { dest: 'first' } })
    expect(ok.status, await ok.clone().text()).toBe(200)
    expect(await ok.json()).toMatchObject({ dest: 'first', sequence: '1' })
    expect(fs.readdirSync(path.join(backupDir, 'first')).some((n) => n.endsWith('.cwseg'))).toBe(true)
    const outside = tempDir('serve-outside')
    fs.symlinkSync(outside, path.join(backupDir, 'link'))
    for (const dest of ['../escape', outside, 'link/inside', '.', '']) {
      const r = await s.req('POST', '/v1/admin/snapshot', { token: A, body: { dest } })
      expect([403, 400], dest).toContain(r.status)
    }
    expect(fs.readdirSync(outside)).toEqual([])
    expect(fs.existsSync(path.join(backupDir, '..', 'escape'))).toBe(false)
    const c = await s.req('POST', '/v1/admin/compact', { token: A, body: {} })
    expect(c.status, await c.clone().text()).toBe(200)
  })

  it('serves HTTP/2 and HTTP/1.1 over TLS with a certificate and key (https URL)', async (ctx) => {
    const made = testCertificate(tempDir('serve-tls'))
    if ('skip' in made) return ctx.skip(made.skip)
    const { cert, key } = made
    const s = await served({ tls: { cert, key }, http2: true })
    expect(s.server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    // An HTTP/2 session and an HTTP/1.1 keep-alive connection, both left open: close() must not wait for them to time out.
    const session = http2.connect(s.server.url, { ca: cert })
    const h2 = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      session.on('error', reject)
      const r = session.request({ ':path': '/health', authorization: `Bearer ${A}` })
      let body = ''
      let status = 0
      r.on('response', (h) => (status = Number(h[':status'])))
      r.on('data', (d: Buffer) => (body += d.toString()))
      r.on('end', () => resolve({ status, body }))
      r.on('error', reject)
    })
    expect(h2).toEqual({ status: 200, body: '{"status":"ok"}' })
    const agent = new https.Agent({ keepAlive: true, ca: cert })
    const h1 = await new Promise<number>((resolve, reject) => {
      https.get(`${s.server.url}/health`, { agent, headers: { authorization: `Bearer ${A}` } }, (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      }).on('error', reject)
    })
    expect(h1).toBe(200)
    const t0 = Date.now()
    await s.server.close()
    expect(Date.now() - t0, 'close() waited on idle connections').toBeLessThan(3000)
    session.destroy()
    agent.destroy()
  })

  it('closes gracefully: a request in flight when close() begins is answered, the store is synced and left open', async () => {
    const s = await served()
    const body = JSON.stringify({ entity: 'c:1', scope: 'shop', kind: 0x1001, payload: 'late' })
    const { port } = new URL(s.server.url)
    // Half a body sent, then close(), then the rest: the request was in flight.
    let closing: Promise<void> | undefined
    let eventsWhenClosed = -1
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const r = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/append', headers: { authorization: `Bearer ${A}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = ''
        res.on('data', (d: Buffer) => (text += d.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
      })
      r.on('error', reject)
      r.write(body.slice(0, 10))
      setTimeout(() => {
        closing = s.server.close().then(() => {
          eventsWhenClosed = s.store.stream('c:1').length
        })
        setTimeout(() => r.end(body.slice(10)), 100)
      }, 100)
    })
    const res = await answer
    await closing
    expect(res.status, res.text).toBe(200)
    expect(eventsWhenClosed, 'close() resolved before the request in flight was handled').toBe(1)
    expect(s.store.closed).toBe(false)
    expect(s.store.stream('c:1').map((e) => e.payload)).toEqual(['late'])
    const st = s.store.stats()
    expect(st.durableSequence).toBe(st.nextSequence)
    await expect(fetch(`${s.server.url}/health`)).rejects.toThrow()
    await s.server.close() // twice is fine
  })
})
