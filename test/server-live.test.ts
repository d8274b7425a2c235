// Live delivery over the network: Server-Sent Events (GET /v1/live) for
// cursors and subscriptions, and the WebSocket endpoint (GET /v1/ws).
// Each test names the failure it catches: a gap or duplicate on resume,
// a filter or scope leak, a dropped client or close() hanging the server,
// lag going unsignalled, a socket bypassing roles.
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { Coordinate, EventKind } from '../src/index.js'
import { served, TOKENS } from './server-helpers.js'
import { openSse, type SseReader } from './sse-reader.js'

const K = EventKind.custom(1, 1)
const auth = (t: string) => ({ authorization: `Bearer ${t}` })
const readers: SseReader[] = []
const live = async (url: string, headers: Record<string, string>): Promise<SseReader> => {
  const r = await openSse(url, headers)
  readers.push(r)
  return r
}

describe('SSE live delivery', () => {
  it('delivers events appended after connecting, in order, and resumes after Last-Event-ID with no gap and no repeat', async () => {
    const s = await served({ heartbeatMs: 50 })
    const r = await live(`${s.server.url}/v1/live`, auth(TOKENS.reader))
    expect(r.status).toBe(200)
    await r.next(1, { comments: true }) // ': live': the stream is set up
    for (let i = 0; i < 5; i++) s.store.append(new Coordinate(`o:${i}`, 'shop'), K, { i })
    const got = await r.next(5)
    expect(got.map((f) => JSON.parse(f.data!).payload.i)).toEqual([0, 1, 2, 3, 4])
    expect(got.every((f) => f.event === 'event' && f.id === JSON.parse(f.data!).globalSequence)).toBe(true)
    // A heartbeat arrives while idle.
    expect((await r.next(1, { comments: true, timeoutMs: 2000 }))[0]!.comment).toBe('ping')
    r.close()
    const lastId = got[2]!.id!
    for (let i = 5; i < 7; i++) s.store.append(new Coordinate(`o:${i}`, 'shop'), K, { i })
    const again = await live(`${s.server.url}/v1/live?after=0`, { ...auth(TOKENS.reader), 'last-event-id': lastId })
    const rest = await again.next(4)
    expect(rest.map((f) => JSON.parse(f.data!).payload.i)).toEqual([3, 4, 5, 6])
  })

  it('sends only what the filter selects, and refuses a scope token a filter outside its scope (403, or no scope at all)', async () => {
    const s = await served()
    s.store.append(new Coordinate('a', 'other'), K, 1)
    s.store.append(new Coordinate('b', 'shop'), K, 2)
    const f = encodeURIComponent(JSON.stringify({ region: { scope: 'shop' } }))
    const r = await live(`${s.server.url}/v1/live?after=1&filter=${f}`, auth(TOKENS.shopReader))
    expect(r.status).toBe(200)
    const all = await live(`${s.server.url}/v1/live?filter=${f}`, auth(TOKENS.shopReader))
    s.store.append(new Coordinate('c', 'other'), K, 3)
    s.store.append(new Coordinate('d', 'shop'), K, 4)
    expect((await r.next(1)).map((x) => JSON.parse(x.data!).entity)).toEqual(['d'])
    // No `after`: every shop event from the first, as Store.cursor.
    expect((await all.next(2)).map((x) => JSON.parse(x.data!).entity)).toEqual(['b', 'd'])
    const other = encodeURIComponent(JSON.stringify({ region: { scope: 'other' } }))
    for (const url of [`/v1/live?filter=${other}`, '/v1/live']) {
      const res = await s.req('GET', url, { token: TOKENS.shopReader })
      expect(res.status, url).toBe(403)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('E_FORBIDDEN')
    }
    const bad = await s.req('GET', '/v1/live?filter=%7Bnope', { token: TOKENS.reader })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('E_INVALID_ARGUMENT')
  })

  it('signals lag to a subscription that fell behind the ring, then goes on', async () => {
    const s = await served({}, { subscriberCapacity: 16 })
    const r = await live(`${s.server.url}/v1/live?mode=subscription`, auth(TOKENS.reader))
    await r.next(1, { comments: true })
    s.store.appendBatch(Array.from({ length: 100 }, (_, i) => ({ coord: new Coordinate(`e${i}`, 'x'), kind: K, payload: i })))
    const [lag] = await r.next(1)
    expect(lag!.event).toBe('lag')
    expect(JSON.parse(lag!.data!).missed).toBeGreaterThan(0)
    s.store.append(new Coordinate('after', 'x'), K, 'late')
    const later = await r.next(1, { timeoutMs: 3000 })
    // Whatever survived the ring, then the late event, arrives after the lag notice.
    expect(later[0]!.event).toBe('event')
  })

  it('keeps serving after a client drops mid-stream, releasing its stream, and close() ends open streams promptly', async () => {
    const s = await served()
    for (let i = 0; i < 3; i++) {
      const r = await live(`${s.server.url}/v1/live`, auth(TOKENS.reader))
      s.store.append(new Coordinate('x', 's'), K, i)
      await r.next(1)
      r.close()
    }
    const ok = await s.req('GET', '/health', { token: TOKENS.reader })
    expect(ok.status).toBe(200)
    // Each dropped stream released its cursor.
    for (let i = 0; i < 50 && s.server.liveStreams > 0; i++) await new Promise((r) => setTimeout(r, 20))
    expect(s.server.liveStreams).toBe(0)
    const open = await live(`${s.server.url}/v1/live?mode=subscription`, auth(TOKENS.reader))
    await open.next(1, { comments: true })
    const t0 = Date.now()
    await s.server.close()
    expect(Date.now() - t0).toBeLessThan(2000)
    await expect(open.next(1, { timeoutMs: 1000 })).rejects.toThrow(/ended/)
  })

  it('does not let close() wait for a connection that never sent a request (a fetch pool keeps spare ones)', async () => {
    const s = await served()
    const { connect } = await import('node:net')
    const sock = connect(Number(new URL(s.server.url).port), '127.0.0.1')
    await new Promise((r) => sock.once('connect', r))
    const t0 = Date.now()
    await s.server.close()
    expect(Date.now() - t0).toBeLessThan(1000)
    sock.destroy()
  })

  it('sends every stream the same text for an event, and a stream opened after an upcast step was registered gets the upcast payload, not the text streams share', async () => {
    const s = await served()
    s.store.types.define('t.up')
    s.store.append(new Coordinate('u', 's'), 't.up', { n: 1 })
    const url = `${s.server.url}/v1/live?filter=${encodeURIComponent(JSON.stringify({ region: { scope: 's' } }))}`
    const first = await live(url, auth(TOKENS.reader))
    const second = await live(url, auth(TOKENS.reader))
    const [a] = await first.next(1)
    const [b] = await second.next(1)
    expect(b!.data).toBe(a!.data)
    expect(JSON.parse(a!.data!).payload).toEqual({ n: 1 })
    // This process now appends version 2 and reads version 1 through a step.
    s.store.types.define('t.up', { version: 2 })
    s.store.types.upcast('t.up', 1, 2, (p: { n: number }) => ({ ...p, v2: true }))
    const third = await live(url, auth(TOKENS.reader))
    const [c] = await third.next(1)
    expect(JSON.parse(c!.data!).payload).toEqual({ n: 1, v2: true })
  })

  it('never sends a stream the text an event had before a tombstone compaction emptied it', async () => {
    const s = await served({}, { segmentMaxBytes: 64 * 1024 })
    const secret = s.store.append(new Coordinate('p', 's'), K, { secret: 'x' })
    // Enough events elsewhere to seal the segment holding it (compaction takes sealed ones only).
    for (let i = 0; i < 4; i++) s.store.appendBatch(Array.from({ length: 40 }, (_, j) => ({ coord: new Coordinate(`f${j}`, 'fill'), kind: K, payload: 'y'.repeat(1000) })))
    const url = `${s.server.url}/v1/live?filter=${encodeURIComponent(JSON.stringify({ region: { scope: 's' } }))}`
    const [before] = await (await live(url, auth(TOKENS.reader))).next(1)
    expect(JSON.parse(before!.data!).payload).toEqual({ secret: 'x' })
    const report = s.store.compact({ strategy: 'tombstone', keep: (e) => e.eventId !== secret.eventId, minSegments: 1 })
    expect(report.eventsTombstoned).toBe(1)
    const [after] = await (await live(url, auth(TOKENS.reader))).next(1)
    expect(JSON.parse(after!.data!).payload).toBeNull()
  })

  it('stops reading for a client that does not read (backpressure) instead of buffering without bound', async () => {
    const s = await served()
    const payload = 'x'.repeat(60_000)
    s.store.appendBatch(Array.from({ length: 200 }, (_, i) => ({ coord: new Coordinate(`big${i}`, 's'), kind: K, payload })))
    // Open without reading: the server must park on 'drain', not write 12 MB into memory.
    const ac = new AbortController()
    const res = await fetch(`${s.server.url}/v1/live`, { headers: auth(TOKENS.reader), signal: ac.signal })
    expect(res.status).toBe(200)
    await new Promise((r) => setTimeout(r, 200))
    const health = await s.req('GET', '/health', { token: TOKENS.reader })
    expect(health.status).toBe(200)
    ac.abort()
  })
})

function ws(url: string, protocols: string[] | undefined, headers: Record<string, string> = {}): Promise<{ sock: WebSocket; msgs: unknown[]; wait(pred: (m: any) => boolean): Promise<any> }> {
  return new Promise((resolve, reject) => {
    const sock = new WebSocket(url.replace('http', 'ws') + '/v1/ws', protocols, { headers })
    const msgs: unknown[] = []
    const waiters: Array<() => void> = []
    sock.on('message', (d) => {
      msgs.push(JSON.parse(String(d)))
      for (const w of waiters.splice(0)) w()
    })
    sock.on('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })))
    sock.on('error', reject)
    sock.on('open', () =>
      resolve({
        sock,
        msgs,
        wait: (pred) =>
          new Promise((res, rej) => {
            const t = setTimeout(() => rej(new Error(`no matching message in ${JSON.stringify(msgs)}`)), 5000)
            const check = (): void => {
              const m = msgs.find(pred)
              if (m) {
                clearTimeout(t)
                res(m)
              } else waiters.push(check)
            }
            check()
          }),
      }),
    )
  })
}

describe('WebSocket endpoint', () => {
  it('appends and subscribes over one socket (token as a subprotocol), pushing events in order', async () => {
    const s = await served()
    const c = await ws(s.server.url, ['causeway', `bearer.${TOKENS.admin}`])
    expect(c.sock.protocol).toBe('causeway')
    c.sock.send(JSON.stringify({ id: 1, op: 'subscribe', region: { scope: 'shop' } }))
    const sub = (await c.wait((m) => m.id === 1)).result.sub
    c.sock.send(JSON.stringify({ id: 2, op: 'append', entity: 'o', scope: 'shop', kind: K.value, payload: { n: 1 } }))
    c.sock.send(JSON.stringify({ id: 3, op: 'batch', items: [{ entity: 'o', scope: 'shop', kind: K.value, payload: { n: 2 } }] }))
    const r2 = await c.wait((m) => m.id === 2)
    expect(r2).toMatchObject({ ok: true, result: { globalSequence: expect.any(String), deduplicated: false } })
    await c.wait((m) => m.sub === sub && m.event?.payload?.n === 2)
    expect(c.msgs.filter((m: any) => m.sub === sub).map((m: any) => m.event.payload.n)).toEqual([1, 2])
    c.sock.send(JSON.stringify({ id: 4, op: 'nope' }))
    expect(await c.wait((m) => m.id === 4)).toMatchObject({ ok: false, error: { code: 'E_INVALID_ARGUMENT' } })
    c.sock.send(JSON.stringify({ id: 5, op: 'appendIf', items: [{ entity: 'o', scope: 'shop', kind: K.value, payload: 3 }], condition: { region: { scope: 'shop' }, after: null } }))
    expect(await c.wait((m) => m.id === 5)).toMatchObject({ ok: false, error: { code: 'E_APPEND_CONDITION' } })
    c.sock.close()
  })

  it('refuses a wrong token on the upgrade (401), an append from a read-only token, a scope outside the token and an event without its tag (403)', async () => {
    const s = await served()
    await expect(ws(s.server.url, ['causeway', 'bearer.wrong'])).rejects.toMatchObject({ status: 401 })
    await expect(ws(s.server.url, undefined)).rejects.toMatchObject({ status: 401 })
    const reader = await ws(s.server.url, undefined, auth(TOKENS.reader))
    reader.sock.send(JSON.stringify({ id: 1, op: 'append', entity: 'o', scope: 'shop', kind: K.value, payload: 1 }))
    expect(await reader.wait((m) => m.id === 1)).toMatchObject({ ok: false, error: { code: 'E_FORBIDDEN' } })
    const appender = await ws(s.server.url, undefined, auth(TOKENS.appender))
    appender.sock.send(JSON.stringify({ id: 1, op: 'subscribe' }))
    expect(await appender.wait((m) => m.id === 1)).toMatchObject({ ok: false, error: { code: 'E_FORBIDDEN' } })
    const scoped = await ws(s.server.url, ['causeway', `bearer.${TOKENS.shopOnly}`])
    scoped.sock.send(JSON.stringify({ id: 1, op: 'append', entity: 'o', scope: 'other', kind: K.value, payload: 1 }))
    scoped.sock.send(JSON.stringify({ id: 2, op: 'subscribe', region: { scope: 'other' } }))
    expect(await scoped.wait((m) => m.id === 1)).toMatchObject({ ok: false, error: { code: 'E_FORBIDDEN' } })
    expect(await scoped.wait((m) => m.id === 2)).toMatchObject({ ok: false, error: { code: 'E_FORBIDDEN' } })
    // A tag-restricted token: untagged appends and batch items, and a subscription not requiring its tag.
    const tagged = await ws(s.server.url, undefined, auth(TOKENS.tagOnly))
    tagged.sock.send(JSON.stringify({ id: 1, op: 'append', entity: 'o', scope: 'shop', kind: K.value, payload: 1 }))
    tagged.sock.send(JSON.stringify({ id: 2, op: 'batch', items: [{ entity: 'o', scope: 'shop', kind: K.value, payload: 1, tags: ['x'] }] }))
    tagged.sock.send(JSON.stringify({ id: 3, op: 'subscribe', region: { scope: 'shop' } }))
    for (const id of [1, 2, 3]) expect(await tagged.wait((m) => m.id === id), `message ${id}`).toMatchObject({ ok: false, error: { code: 'E_FORBIDDEN' } })
    tagged.sock.send(JSON.stringify({ id: 4, op: 'append', entity: 'o', scope: 'shop', kind: K.value, payload: 1, options: { tags: ['tenant:shop'] } }))
    expect(await tagged.wait((m) => m.id === 4)).toMatchObject({ ok: true })
    expect(s.store.stats().events).toBe(1)
    // An idempotency key another token used: never the receipt of an event the token may not read.
    const foreign = s.store.append(new Coordinate('o2', 'other'), K, 1, { idempotencyKey: 'k-foreign', tags: ['tenant:other'] })
    scoped.sock.send(JSON.stringify({ id: 3, op: 'append', entity: 'o', scope: 'shop', kind: K.value, payload: 1, options: { idempotencyKey: 'k-foreign' } }))
    tagged.sock.send(JSON.stringify({ id: 5, op: 'batch', items: [{ entity: 'o', scope: 'shop', kind: K.value, payload: 1, tags: ['tenant:shop'], idempotencyKey: 'k-foreign' }] }))
    for (const [c, id] of [[scoped, 3], [tagged, 5]] as const) {
      const m = await c.wait((x) => x.id === id)
      expect(m, `message ${id}`).toMatchObject({ ok: false, error: { code: 'E_FORBIDDEN' } })
      expect(JSON.stringify(m)).not.toContain(foreign.eventId)
    }
    expect(s.store.stats().events).toBe(2)
    for (const c of [reader, appender, scoped, tagged]) c.sock.close()
  })
})

import { afterEach } from 'vitest'
afterEach(() => {
  for (const r of readers.splice(0)) r.close()
})
