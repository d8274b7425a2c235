import { describe, expect, it } from 'vitest'
import {
  Coordinate,
  EventKind,
  Region,
  SequenceMismatchError,
  Store,
  StoreClosedError,
  isCausewayError,
} from '../src/index.js'
import { tempDir } from './helpers.js'

const Placed = EventKind.custom(1, 1)
const Shipped = EventKind.custom(1, 2)
const Noted = EventKind.custom(2, 7)
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

function open(dir = tempDir()): Store {
  return Store.open({ dataDir: dir })
}

describe('append receipts', () => {
  it('numbers events gaplessly from 0 and clocks each entity from 1', () => {
    const s = open()
    const a = new Coordinate('order:1', 'shop')
    const b = new Coordinate('order:2', 'shop')
    const rs = [s.append(a, Placed, 1), s.append(b, Placed, 2), s.append(a, Shipped, 3), s.append(b, Shipped, 4)]
    expect(rs.map((r) => r.globalSequence)).toEqual([0n, 1n, 2n, 3n])
    expect(typeof rs[0]!.globalSequence).toBe('bigint')
    expect(rs.map((r) => r.clock)).toEqual([1, 1, 2, 2])
    s.close()
  })

  it('gives UUIDv7 ids that sort by time and never repeat', () => {
    const s = open()
    const c = new Coordinate('e', 's')
    const ids = Array.from({ length: 2000 }, (_, i) => s.append(c, Placed, i).eventId)
    for (const id of ids) expect(id).toMatch(UUID_V7)
    expect(new Set(ids).size).toBe(ids.length)
    const ms = ids.map((id) => parseInt(id.replace(/-/g, '').slice(0, 12), 16))
    for (let i = 1; i < ms.length; i++) expect(ms[i]).toBeGreaterThanOrEqual(ms[i - 1]!)
    s.close()
  })

  it('chains each event to the content hash of its entity predecessor', () => {
    const s = open()
    const a = new Coordinate('acct:1', 'bank')
    const r1 = s.append(a, Placed, { n: 1 })
    s.append(new Coordinate('acct:2', 'bank'), Placed, { n: 9 })
    const r2 = s.append(a, Placed, { n: 2 })
    expect(r1.prevHash).toBe('0'.repeat(64))
    expect(r2.prevHash).toBe(r1.contentHash)
    expect(r1.contentHash).toMatch(/^[0-9a-f]{64}$/)
    s.close()
  })

  it('keeps timestamps from going backwards', () => {
    const s = open()
    const c = new Coordinate('t', 's')
    const ts = Array.from({ length: 500 }, () => s.append(c, Placed, null).timestampUs)
    for (let i = 1; i < ts.length; i++) expect(ts[i]).toBeGreaterThanOrEqual(ts[i - 1]!)
    expect(Math.abs(ts[0]! / 1000 - Date.now())).toBeLessThan(60_000)
    s.close()
  })

  it('marks a durable append as durable and a cadence append as not yet', () => {
    const s = Store.open({ dataDir: tempDir(), sync: { mode: 'none' } })
    const c = new Coordinate('d', 's')
    expect(s.append(c, Placed, 1).durable).toBe(false)
    expect(s.append(c, Placed, 2, { durable: true }).durable).toBe(true)
    expect(s.stats().durableSequence).toBe(2n)
    s.close()
  })
})

describe('reads', () => {
  it('returns the stored event with every receipt field and the decoded payload', () => {
    const s = open()
    const c = new Coordinate('order:42', 'shop')
    const payload = { sku: 'A-1', qty: 2, tags: ['x', 'y'], nested: { ok: true, n: null }, bin: new Uint8Array([1, 2, 3]) }
    const r = s.append(c, Placed, payload)
    const e = s.get(r.eventId)!
    expect(e.eventId).toBe(r.eventId)
    expect(e.globalSequence).toBe(r.globalSequence)
    expect(e.clock).toBe(1)
    expect(e.contentHash).toBe(r.contentHash)
    expect(e.prevHash).toBe(r.prevHash)
    expect(e.coordinate.entity).toBe('order:42')
    expect(e.coordinate.scope).toBe('shop')
    expect(e.kind.equals(Placed)).toBe(true)
    expect(e.correlationId).toBe(r.eventId)
    expect(e.causationId).toBeNull()
    expect(e.timestampUs).toBe(r.timestampUs)
    const got = e.payload as typeof payload
    expect({ ...got, bin: undefined }).toEqual({ ...payload, bin: undefined })
    expect(got.bin).toBeInstanceOf(Uint8Array)
    expect([...got.bin]).toEqual([1, 2, 3])
    expect(s.get('01890000-0000-7000-8000-000000000000')).toBeUndefined()
    s.close()
  })

  it('streams exactly one entity in clock order, not its namesakes', () => {
    const s = open()
    for (let i = 0; i < 5; i++) {
      s.append(new Coordinate('order:4', 'shop'), Placed, i)
      s.append(new Coordinate('order:42', 'shop'), Placed, i)
    }
    const st = s.stream('order:4')
    expect(st.map((e) => e.clock)).toEqual([1, 2, 3, 4, 5])
    expect(st.every((e) => e.coordinate.entity === 'order:4')).toBe(true)
    expect(s.stream('nobody')).toEqual([])
    s.close()
  })

  it('matches Region.entity on the entity and its children, never a raw string prefix', () => {
    const s = open()
    for (const e of ['order', 'order:1', 'order:1:line:2', 'orders', 'order-x', 'reorder:1']) s.append(new Coordinate(e, 'shop'), Placed, e)
    const got = s.query(Region.entity('order')).map((e) => e.coordinate.entity)
    expect(got).toEqual(['order', 'order:1', 'order:1:line:2'])
    expect(s.query(Region.entity('order:1')).map((e) => e.coordinate.entity)).toEqual(['order:1', 'order:1:line:2'])
    s.close()
  })

  it('ANDs scope, fact, category, clock range and time range', () => {
    const s = open()
    const before = Date.now()
    for (let i = 1; i <= 6; i++) {
      s.append(new Coordinate('order:1', i % 2 ? 'shop' : 'warehouse'), i % 3 ? Placed : Noted, i)
    }
    const after = Date.now()
    const seqs = (r: Region) => s.query(r).map((e) => Number(e.globalSequence))
    expect(seqs(Region.all())).toEqual([0, 1, 2, 3, 4, 5])
    expect(seqs(Region.scope('shop'))).toEqual([0, 2, 4])
    expect(seqs(Region.all().withFact(Noted))).toEqual([2, 5])
    expect(seqs(Region.all().withFactCategory(1))).toEqual([0, 1, 3, 4])
    expect(seqs(Region.entity('order').withScope('warehouse').withFact(Placed))).toEqual([1, 3])
    expect(seqs(Region.entity('order').withClockRange(2, 4))).toEqual([1, 2, 3])
    expect(seqs(Region.all().withClockRange(6, 6))).toEqual([5])
    expect(seqs(Region.all().withTimeRange(before - 1, after + 1))).toEqual([0, 1, 2, 3, 4, 5])
    expect(seqs(Region.all().withTimeRange(after + 10_000, after + 20_000))).toEqual([])
    expect(seqs(Region.scope('nowhere'))).toEqual([])
    expect(s.byScope('warehouse').length).toBe(3)
    expect(s.byFact(Placed).length).toBe(4)
    s.close()
  })

  it('decodes a payload only when it is read', () => {
    const s = open()
    s.append(new Coordinate('a', 's'), Placed, { big: 'x'.repeat(1000) })
    const [e] = s.query(Region.all())
    expect((e as unknown as { decoded?: unknown }).decoded).toBeUndefined()
    expect((e!.payload as { big: string }).big.length).toBe(1000)
    expect((e as unknown as { decoded?: unknown }).decoded).toBeDefined()
    s.close()
  })
})

describe('CAS and idempotency', () => {
  it('refuses a wrong expectedSequence with the entity, expected and actual clock, writing nothing', () => {
    const s = open()
    const c = new Coordinate('acct:7', 'bank')
    s.append(c, Placed, 1, { expectedSequence: 0 })
    s.append(c, Placed, 2, { expectedSequence: 1 })
    let err: unknown
    try {
      s.append(c, Placed, 3, { expectedSequence: 1 })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(SequenceMismatchError)
    expect(isCausewayError(err, 'E_SEQUENCE_MISMATCH')).toBe(true)
    expect(err).toMatchObject({ entity: 'acct:7', expected: 1, actual: 2, code: 'E_SEQUENCE_MISMATCH' })
    expect(s.stats().events).toBe(2)
    expect(() => s.append(new Coordinate('fresh', 'bank'), Placed, 1, { expectedSequence: 1 })).toThrow(SequenceMismatchError)
    s.close()
  })

  it('returns the original receipt for a reused idempotency key, also after reopen', () => {
    const dir = tempDir()
    let s = open(dir)
    const c = new Coordinate('order:9', 'shop')
    const first = s.append(c, Placed, { v: 1 }, { idempotencyKey: 'cmd-7' })
    const again = s.append(c, Placed, { v: 'different' }, { idempotencyKey: 'cmd-7' })
    expect(again.deduplicated).toBe(true)
    expect(again.eventId).toBe(first.eventId)
    expect(again.globalSequence).toBe(first.globalSequence)
    expect(again.contentHash).toBe(first.contentHash)
    expect(s.stats().events).toBe(1)
    s.close()
    s = open(dir)
    const third = s.append(c, Placed, { v: 1 }, { idempotencyKey: 'cmd-7' })
    expect(third.deduplicated).toBe(true)
    expect(third.eventId).toBe(first.eventId)
    expect(s.append(c, Placed, { v: 1 }, { idempotencyKey: 'cmd-8' }).deduplicated).toBe(false)
    expect(s.stats().events).toBe(2)
    s.close()
  })
})

describe('reactions and batches', () => {
  it('appendReaction keeps the correlation and records the causation', () => {
    const s = open()
    const cmd = s.append(new Coordinate('order:1', 'shop'), Placed, 1)
    const r = s.appendReaction(new Coordinate('invoice:1', 'billing'), Noted, 2, cmd.correlationId, cmd.eventId)
    const e = s.get(r.eventId)!
    expect(e.correlationId).toBe(cmd.eventId)
    expect(e.causationId).toBe(cmd.eventId)
    s.close()
  })

  it('appends a batch atomically with priorItem causation and per-entity chains inside it', () => {
    const s = open()
    const a = new Coordinate('order:1', 'shop')
    const b = new Coordinate('stock:A', 'shop')
    const head = s.append(a, Placed, 0)
    const rs = s.appendBatch([
      { coord: a, kind: Placed, payload: 1 },
      { coord: b, kind: Noted, payload: 2, causation: { priorItem: 0 } },
      { coord: a, kind: Shipped, payload: 3, causation: { priorItem: 1 } },
    ])
    expect(rs.map((r) => r.globalSequence)).toEqual([1n, 2n, 3n])
    expect(rs.map((r) => r.clock)).toEqual([2, 1, 3])
    expect(rs[0]!.prevHash).toBe(head.contentHash)
    expect(rs[2]!.prevHash).toBe(rs[0]!.contentHash)
    expect(s.get(rs[1]!.eventId)!.causationId).toBe(rs[0]!.eventId)
    expect(s.get(rs[2]!.eventId)!.causationId).toBe(rs[1]!.eventId)
    s.close()
  })

  it('writes nothing of a batch whose later item fails its expectedSequence', () => {
    const s = open()
    const a = new Coordinate('order:1', 'shop')
    s.append(a, Placed, 0)
    expect(() =>
      s.appendBatch([
        { coord: a, kind: Placed, payload: 1, expectedSequence: 1 },
        { coord: a, kind: Placed, payload: 2, expectedSequence: 1 },
      ]),
    ).toThrow(SequenceMismatchError)
    expect(s.stats().events).toBe(1)
    const ok = s.appendBatch([
      { coord: a, kind: Placed, payload: 1, expectedSequence: 1 },
      { coord: a, kind: Placed, payload: 2, expectedSequence: 2 },
    ])
    expect(ok.map((r) => r.clock)).toEqual([2, 3])
    s.close()
  })

  it('replays a fully keyed batch as its original receipts', () => {
    const s = open()
    const a = new Coordinate('order:1', 'shop')
    const items = [
      { coord: a, kind: Placed, payload: 1, idempotencyKey: 'k1' },
      { coord: a, kind: Placed, payload: 2, idempotencyKey: 'k2' },
    ]
    const first = s.appendBatch(items)
    const again = s.appendBatch(items)
    expect(again.map((r) => r.eventId)).toEqual(first.map((r) => r.eventId))
    expect(again.every((r) => r.deduplicated)).toBe(true)
    expect(s.stats().events).toBe(2)
    s.close()
  })
})

describe('lifecycle', () => {
  it('keeps every event, chain and the sequence across close and reopen', () => {
    const dir = tempDir()
    let s = open(dir)
    const c = new Coordinate('order:1', 'shop')
    const rs = Array.from({ length: 100 }, (_, i) => s.append(c, Placed, { i }))
    s.close()
    s = open(dir)
    const st = s.stream('order:1')
    expect(st.map((e) => e.eventId)).toEqual(rs.map((r) => r.eventId))
    expect(st.map((e) => (e.payload as { i: number }).i)).toEqual(rs.map((_, i) => i))
    const next = s.append(c, Placed, { i: 100 })
    expect(next.globalSequence).toBe(100n)
    expect(next.clock).toBe(101)
    expect(next.prevHash).toBe(rs[99]!.contentHash)
    s.close()
  })

  it('rolls segments at segmentMaxBytes and reads across them after reopen', () => {
    const dir = tempDir()
    let s = Store.open({ dataDir: dir, segmentMaxBytes: 8192 })
    const c = new Coordinate('roll', 's')
    for (let i = 0; i < 300; i++) s.append(c, Placed, { i, pad: 'p'.repeat(50) })
    expect(s.stats().segments).toBeGreaterThan(5)
    s.close()
    s = Store.open({ dataDir: dir, segmentMaxBytes: 8192 })
    expect(s.stream('roll').map((e) => (e.payload as { i: number }).i)).toEqual(Array.from({ length: 300 }, (_, i) => i))
    s.close()
  })

  it('throws StoreClosedError after close, and close twice is harmless', () => {
    const s = open()
    s.close()
    s.close()
    expect(s.closed).toBe(true)
    expect(() => s.append(new Coordinate('a', 'b'), Placed, 1)).toThrow(StoreClosedError)
    expect(() => s.query(Region.all())).toThrow(StoreClosedError)
    expect(() => s.stats()).toThrow(StoreClosedError)
    expect(() => s.sync()).toThrow(StoreClosedError)
  })

  it('reports stats that add up', () => {
    const s = open()
    for (let i = 0; i < 10; i++) s.append(new Coordinate(`e${i % 3}`, `s${i % 2}`), Placed, i)
    s.sync()
    const st = s.stats()
    expect(st).toMatchObject({ events: 10, nextSequence: 10n, durableSequence: 10n, entities: 3, scopes: 2, segments: 1 })
    expect(st.bytes).toBeGreaterThan(10 * 168)
    expect(st.lastSyncAt).toBeInstanceOf(Date)
    s.close()
  })
})
