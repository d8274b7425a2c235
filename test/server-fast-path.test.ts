// The service's append fast path: receipts written as JSON text directly
// must equal what the generic JSON writer gives, and the cache of valid
// token hashes must never let a token through a server whose tokens do
// not list it. No timings here (bench/http.bench.mjs measures speed).
import { afterEach, describe, expect, it } from 'vitest'
import { Coordinate, EventKind, Region, Store } from '../src/index.js'
import { Rcpt } from '../src/native/layouts.js'
import { AppendReceipt } from '../src/receipt.js'
import { toJson } from '../src/server/body.js'
import { findToken, hashToken, type TokenEntry } from '../src/server/tokens.js'
import { receiptJson, receiptsJson } from '../src/server/receipt-json.js'
import { sseEvent, sseTextsHeld } from '../src/server/sse-text.js'
import { receiptWire } from '../src/server/wire.js'
import * as dc from 'node:diagnostics_channel'
import * as http from 'node:http'
import { tempDir } from './helpers.js'
import { served, TOKEN_ENTRIES, TOKENS } from './server-helpers.js'

const stores: Store[] = []
afterEach(() => {
  for (const s of stores.splice(0)) s.close()
})

describe('receipt JSON fast path', () => {
  it('writes the same text as toJson(receiptWire(r)) for plain, caused, deduplicated, durable and batch receipts', () => {
    const store = Store.open({ dataDir: tempDir('fastpath') })
    stores.push(store)
    store.types.define('t.one', {})
    const c = new Coordinate('order:1', 'shop')
    const first = store.append(c, 't.one', { a: 1 })
    const caused = store.append(c, 't.one', null, { causationId: first.eventId, idempotencyKey: 'k1', durable: true })
    const dedup = store.append(c, 't.one', null, { causationId: first.eventId, idempotencyKey: 'k1' })
    expect(dedup.deduplicated).toBe(true)
    expect(caused.causationId).toBe(first.eventId)
    for (const r of [first, caused, dedup]) {
      expect(receiptJson(r)).toBe(toJson(receiptWire(r)))
      expect(JSON.parse(receiptJson(r))).toEqual(JSON.parse(toJson(receiptWire(r))))
    }
    const batch = store.appendBatch([1, 2, 3].map((i) => ({ coord: new Coordinate(`order:${i}`, 'shop'), kind: 't.one', payload: i })))
    expect(receiptsJson(batch).toString('latin1')).toBe(toJson({ receipts: batch.map(receiptWire) }))
  })

  it('writes numbers at their limits and odd causation bytes as the generic writer does', () => {
    // Receipts no small store can produce: sequences past 2^32, 2^53 and up
    // to 2^64 - 1, the largest clock, negative and large timestamps, a
    // causation flag over zero bytes (null) and causation without the flag.
    const cases: Array<{ seq: bigint; clock: number; ts: bigint; flags: number; causation: number }> = [
      { seq: 0n, clock: 0, ts: 0n, flags: 0, causation: 0 },
      { seq: 2n ** 32n + 7n, clock: 0xffffffff, ts: 1_765_000_000_123_456n, flags: 1, causation: 0 },
      { seq: 2n ** 53n - 1n, clock: 10, ts: -1n, flags: 2 | 4, causation: 0 },
      { seq: 2n ** 53n + 1n, clock: 99, ts: -(2n ** 52n), flags: 4, causation: 0xab },
      { seq: 2n ** 64n - 1n, clock: 1_000_000_000, ts: 2n ** 53n - 1n, flags: 3, causation: 0x5c },
    ]
    for (const k of cases) {
      const buf = new Uint8Array(Rcpt.size + 8)
      const view = new DataView(buf.buffer)
      const o = 8 // not at the arena's start
      view.setBigUint64(o + Rcpt.sequence, k.seq, true)
      view.setUint32(o + Rcpt.clock, k.clock, true)
      buf[o + Rcpt.flags] = k.flags
      view.setBigInt64(o + Rcpt.timestamp, k.ts, true)
      for (let i = 0; i < 16; i++) {
        buf[o + Rcpt.eventId + i] = (i * 37 + 1) & 0xff
        buf[o + Rcpt.correlation + i] = (255 - i * 13) & 0xff
        buf[o + Rcpt.causation + i] = i === 15 ? k.causation : 0
      }
      for (let i = 0; i < 32; i++) (buf[o + Rcpt.contentHash + i] = i * 8), (buf[o + Rcpt.prevHash + i] = 255 - i)
      const r = new AppendReceipt(buf, view, o)
      expect(receiptJson(r)).toBe(toJson(receiptWire(r)))
      expect(receiptsJson([r, r]).toString('latin1')).toBe(toJson({ receipts: [receiptWire(r), receiptWire(r)] }))
    }
  })

  it('answers an HTTP append with a receipt that parses to the stored event', async () => {
    const s = await served()
    s.store.types.define('order.placed', {})
    const r = await s.req('POST', '/v1/append', { token: TOKENS.appender, body: { entity: 'order:9', scope: 'shop', type: 'order.placed', payload: { sku: 'A' } } })
    expect(r.status).toBe(200)
    const body = (await r.json()) as { eventId: string; globalSequence: string }
    expect(s.store.get(body.eventId)?.globalSequence).toBe(BigInt(body.globalSequence))
  })
})

describe('coordinates remembered across requests', () => {
  it('keeps one entity name in two scopes apart, and refuses a bad name on every request, never remembering it', async () => {
    const s = await served()
    s.store.types.define('t.one', {})
    for (const scope of ['s1', 's2', 's1']) {
      const r = await s.req('POST', '/v1/append', { token: TOKENS.appender, body: { entity: 'same', scope, type: 't.one', payload: scope } })
      expect(r.status).toBe(200)
    }
    // Each event is stored under the scope its request named.
    expect(s.store.stream(new Coordinate('same', 's1')).map((e) => [e.coordinate.scope, e.payload])).toEqual([['s1', 's1'], ['s2', 's2'], ['s1', 's1']])
    for (let i = 0; i < 2; i++) {
      const r = await s.req('POST', '/v1/append', { token: TOKENS.appender, body: { entity: 'bad\u0001name', scope: 's1', type: 't.one', payload: 1 } })
      expect(r.status).toBe(400)
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('E_INVALID_COORDINATE')
    }
  })
})

/** The principal a token resolves to (undefined: none, or expired). */
const principal = (entries: TokenEntry[], token: string) => {
  const m = findToken(entries, token)
  return m && 'principal' in m ? m.principal : undefined
}

describe('token hash cache', () => {
  const token = 'cached-secret-token'
  const listed: TokenEntry[] = [{ id: 'a', hash: hashToken(token), roles: ['append'] }]
  const other: TokenEntry[] = [{ id: 'b', hash: hashToken('another-token'), roles: ['admin'] }]

  it('refuses a token whose hash was cached by one server on tokens that do not list it', () => {
    expect(principal(listed, token)?.id).toBe('a') // cached now
    expect(findToken(other, token)).toBeUndefined()
    expect(principal(listed, token)?.id).toBe('a')
  })

  it('follows an entry whose hash changed in place instead of keeping the old principal', () => {
    const entries: TokenEntry[] = [{ id: 'c', hash: hashToken(token), roles: ['read'] }]
    expect(principal(entries, token)?.roles.has('read')).toBe(true)
    entries[0]!.hash = hashToken('rotated')
    expect(findToken(entries, token)).toBeUndefined()
  })

  it('refuses a cached token once its entry expired', () => {
    const entries: TokenEntry[] = [{ id: 'e', hash: hashToken(token), roles: ['read'], expiresAt: '2026-01-01T00:00:00Z' }]
    expect(principal(entries, token)).toBeUndefined()
    expect(findToken(entries, token, Date.parse('2025-12-31T00:00:00Z'))).toMatchObject({ principal: { id: 'e' } })
    expect(findToken(entries, token)).toEqual({ expired: { id: 'e', at: '2026-01-01T00:00:00Z' } })
  })

  it('refuses a near-miss token (one character more or less) after the real one was cached', () => {
    expect(findToken(listed, `${token}x`)).toBeUndefined()
    expect(findToken(listed, token.slice(0, -1))).toBeUndefined()
  })
})

/** GET `path` on the one keep-alive socket of `agent`; the status and whether the socket was reused. */
function onConnection(agent: http.Agent, url: string, token: string): Promise<{ status: number; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode!, reused: req.reusedSocket }))
    })
    req.setTimeout(5000, () => req.destroy(new Error('timed out')))
    req.on('error', reject)
  })
}

describe('a connection remembers whom its Authorization header identified', () => {
  it('refuses the same header on the same connection once reloadTokens dropped the token, or once its entry expired, and another header at once', async () => {
    const expiring = 'soon-expired-secret-token'
    const s = await served({ tokens: [...TOKEN_ENTRIES, { id: 'soon', hash: hashToken(expiring), roles: ['read'], expiresAt: new Date(Date.now() + 1500).toISOString() }] })
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const url = `${s.server.url}/v1/stats`
      expect(await onConnection(agent, url, TOKENS.reader)).toEqual({ status: 200, reused: false })
      expect(await onConnection(agent, url, TOKENS.reader)).toEqual({ status: 200, reused: true })
      // Another header on the same connection is looked up, not taken from the one before.
      expect(await onConnection(agent, url, 'not-a-token')).toEqual({ status: 401, reused: true })
      expect(await onConnection(agent, url, expiring)).toEqual({ status: 200, reused: true })
      await new Promise((r) => setTimeout(r, 1600))
      expect(await onConnection(agent, url, expiring)).toEqual({ status: 401, reused: true })
      expect(await onConnection(agent, url, TOKENS.reader)).toEqual({ status: 200, reused: true })
      s.server.reloadTokens(TOKEN_ENTRIES.filter((e) => e.id !== 'reader'))
      expect(await onConnection(agent, url, TOKENS.reader)).toEqual({ status: 401, reused: true })
    } finally {
      agent.destroy()
    }
  })
})

describe('HTTP/1.1 connections parsed natively', () => {
  it('leaves node parsing each connection natively: nothing listens for data on its sockets (that moves every request into JavaScript)', async () => {
    const s = await served()
    // node's own flag: its HTTP/1.1 parser reads the socket itself until a
    // 'data' or 'readable' listener is added to it (then socketOnData, in JS).
    const consumed: Array<boolean | undefined> = []
    const onStart = ({ socket }: { socket: { parser?: { _consumed?: boolean } } }): void => void consumed.push(socket.parser?._consumed)
    dc.subscribe('http.server.request.start', onStart as (m: unknown) => void)
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      for (let i = 0; i < 3; i++) expect((await onConnection(agent, `${s.server.url}/v1/stats`, TOKENS.reader)).status).toBe(200)
    } finally {
      agent.destroy()
      dc.unsubscribe('http.server.request.start', onStart as (m: unknown) => void)
    }
    expect(consumed).toEqual([true, true, true])
  })
})

describe('SSE texts shared by live streams', () => {
  it('holds at most 16 MiB of them and keeps none over 256 KiB, however large the events', () => {
    const store = Store.open({ dataDir: tempDir('sse-texts'), maxPayloadBytes: 1024 * 1024 })
    stores.push(store)
    const c = new Coordinate('big', 's')
    const k = EventKind.custom(1, 1)
    for (let i = 0; i < 250; i++) store.append(c, k, 'x'.repeat(100_000)) // about 100 KB of JSON each
    store.append(c, k, 'y'.repeat(300_000))
    const events = store.query(Region.all())
    for (const e of events) expect(sseEvent(store, e)).toContain(`id: ${e.globalSequence}\n`)
    const held = sseTextsHeld(store)
    expect(held.chars).toBeLessThanOrEqual(16 * 1024 * 1024)
    expect(held.texts).toBeGreaterThan(100)
    expect(held.texts).toBeLessThan(events.length - 1) // the oldest went, and the 300 KB one was never kept
    // Each text is still the same on a second read, kept or not.
    for (const e of events.slice(-3)) expect(sseEvent(store, e)).toBe(sseEvent(store, e))
  })
})
