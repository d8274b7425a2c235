// Versions and upcasting: events stored at an old type version read back at
// the current one through registered steps, on every read path, while the
// stored bytes (and so hash chains and verifyChain) stay exactly as written.
// Real stores on disk, no mocks.
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, Region, Store, type StoredEvent } from '../src/index.js'
import { tempDir, thrown } from './helpers.js'
import { exited, run } from './process-helpers.js'

const order = new Coordinate('order:1', 'shop')
const other = new Coordinate('order:2', 'shop')
const K = EventKind.custom(1, 1)

type V1 = { sku: string; qty: number }
type V2 = { sku: string; quantity: number }
type V3 = { sku: string; quantity: number; currency: string }
const toV2 = (p: V1): V2 => ({ sku: p.sku, quantity: p.qty })
const toV3 = (p: V2): V3 => ({ ...p, currency: 'EUR' })

function open(dir: string, more: Partial<Parameters<typeof Store.open>[0]> = {}): Store {
  return Store.open({ dataDir: dir, segmentMaxBytes: 64 * 1024, ...more })
}


/** A store holding order.placed events written at version 1 (and one numeric-kind event); the stored bytes and hashes by event id. */
function writtenAtV1(dir = tempDir()) {
  const s = open(dir)
  s.types.define('order.placed')
  const ids = [
    s.append(order, 'order.placed', { sku: 'A', qty: 1 }).eventId,
    s.append(other, 'order.placed', { sku: 'B', qty: 2 }).eventId,
    s.append(order, 'order.placed', { sku: 'C', qty: 3 }).eventId,
  ]
  s.append(order, K, { note: 'numeric' })
  const bytes = new Map(ids.map((id) => [id, Buffer.from(s.get(id)!.payloadBytes)]))
  const hashes = new Map(ids.map((id) => [id, s.get(id)!.contentHash]))
  s.close()
  return { dir, ids, bytes, hashes }
}

function expectV2(e: StoredEvent | undefined, sku: string, quantity: number): void {
  expect(e?.payload).toEqual({ sku, quantity })
  expect(e?.version).toBe(2)
  expect(e?.storedVersion).toBe(1)
}

describe('upcasting: every read path returns the current version', () => {
  it('get, query, byFact, paged query and stream, scan, cursor, project and causal walks return v2 payloads of v1 events, bytes and hashes unchanged', () => {
    const { dir, ids, bytes, hashes } = writtenAtV1()
    const s = open(dir)
    s.types.define('order.placed', { version: 2 })
    s.types.upcast<V1, V2>('order.placed', 1, 2, toV2)

    expectV2(s.get(ids[0]!), 'A', 1)
    const placed = Region.all().withFact('order.placed')
    expect(s.query(placed).map((e) => [e.payload, e.version, e.storedVersion])).toEqual([
      [{ sku: 'A', quantity: 1 }, 2, 1],
      [{ sku: 'B', quantity: 2 }, 2, 1],
      [{ sku: 'C', quantity: 3 }, 2, 1],
    ])
    expect(s.byFact('order.placed').map((e) => e.payload)).toEqual(s.query(placed).map((e) => e.payload))
    expect(s.query(placed, { reverse: true, limit: 1 }).toArray().map((e) => e.payload)).toEqual([{ sku: 'C', quantity: 3 }])
    const stream = s.stream('order:1')
    expect(stream.map((e) => e.payload)).toEqual([{ sku: 'A', quantity: 1 }, { sku: 'C', quantity: 3 }, { note: 'numeric' }])
    expect(stream.map((e) => e.version)).toEqual([2, 2, 1]) // the numeric kind has no type: as stored
    expect(s.stream('order:1', { fromClock: 2, toClock: 2 }).toArray().map((e) => e.payload)).toEqual([{ sku: 'C', quantity: 3 }])

    const [batch] = [...s.scan(placed)]
    expect(batch!.payload(1)).toEqual({ sku: 'B', quantity: 2 })
    expect([batch!.version(1), batch!.storedVersion(1)]).toEqual([2, 1])
    expectV2(batch!.event(2), 'C', 3)
    expect([...batch!].map((e) => e.version)).toEqual([2, 2, 2])

    const cursor = s.cursor(placed)
    expect(cursor.pollBatch(10).map((e) => e.payload)).toEqual([
      { sku: 'A', quantity: 1 },
      { sku: 'B', quantity: 2 },
      { sku: 'C', quantity: 3 },
    ])

    const total = {
      name: 'total',
      version: 1,
      kinds: ['order.placed'],
      init: () => 0,
      apply: (n: number, e: StoredEvent) => n + (e.payload as V2).quantity,
    }
    expect(s.project('order:1', total).state).toBe(4) // a v1 payload has no `quantity`: NaN if not upcast
    const skus = { name: 'skus', version: 1, kinds: ['order.placed'], init: () => '', apply: (t: string, e: StoredEvent) => t + (e.payload as V2).sku }
    expect(s.projectMany('order:1', [total, skus]).map((r) => r.state)).toEqual([4, 'AC'])

    // The stored side is untouched: the same bytes, the same hashes, a clean chain.
    for (const id of ids) {
      const e = s.get(id)!
      expect(Buffer.from(e.payloadBytes)).toEqual(bytes.get(id))
      expect(e.contentHash).toBe(hashes.get(id))
    }
    // A causal walk re-hashes the stored bytes (a CorruptionError if they differed) and hands out upcast payloads.
    expect(s.walkAncestors(ids[2]!).map((e) => e.payload)).toEqual([{ sku: 'C', quantity: 3 }, { sku: 'A', quantity: 1 }])
    const report = s.verifyChain()
    expect(report.contentMismatches).toEqual([])
    expect(report.brokenLinks).toEqual([])
    s.close()
  })

  it('subscriptions, watchProjection and reactLoop see the upcast payload of an event appended at v1', async () => {
    const s = open(tempDir())
    s.types.define('order.placed') // this process appends at version 1 first ...
    const sub = s.subscribe(Region.all().withFact('order.placed'))
    const id = s.append(order, 'order.placed', { sku: 'A', qty: 5 }).eventId
    s.types.define('order.placed', { version: 2 }) // ... then upgrades
    s.types.upcast<V1, V2>('order.placed', 1, 2, toV2)
    const { events } = sub.poll()
    expect(events.map((e) => e.eventId)).toEqual([id])
    expectV2(events[0], 'A', 5)
    sub.close()

    const qty = { name: 'qty', version: 1, kinds: ['order.placed'], init: () => 0, apply: (n: number, e: StoredEvent) => n + (e.payload as V2).quantity }
    for await (const r of s.watchProjection('order:1', qty)) {
      expect(r.state).toBe(5)
      break
    }

    const seen: unknown[] = []
    const loop = s.reactLoop(Region.all().withFact('order.placed'), (e) => {
      seen.push([e.payload, e.version])
      return []
    })
    for (let i = 0; i < 200 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 5))
    await loop.stop()
    expect(seen).toEqual([[{ sku: 'A', quantity: 5 }, 2]])
    s.close()
  })

  it('a projection cached before an upcast step was registered is not served stale afterwards', () => {
    const s = open(tempDir())
    s.types.define('order.placed')
    s.append(order, 'order.placed', { sku: 'A', qty: 2 })
    const q = { name: 'q', version: 1, init: () => [] as unknown[], apply: (a: unknown[], e: StoredEvent) => [...a, e.payload] }
    expect(s.project('order:1', q).state).toEqual([{ sku: 'A', qty: 2 }])
    s.types.define('order.placed', { version: 2 })
    s.types.upcast<V1, V2>('order.placed', 1, 2, toV2)
    const r = s.project('order:1', q)
    expect([r.state, r.cacheHit]).toEqual([[{ sku: 'A', quantity: 2 }], false])
    s.close()
  })
})

describe('upcasting: versions, chains and caching', () => {
  it('runs a chain of two steps in order (1 -> 2 -> 3), only the steps a stored version needs, once per event', () => {
    const dir = tempDir()
    const { ids } = writtenAtV1(dir)
    const mid = open(dir)
    mid.types.define('order.placed', { version: 2 })
    const v2id = mid.append(order, 'order.placed', { sku: 'D', quantity: 4 }).eventId
    mid.close()

    const s = open(dir)
    s.types.define('order.placed', { version: 3 })
    const calls: string[] = []
    s.types.upcast('order.placed', 2, 3, (p: V2, e) => (calls.push(`2->3 ${e.storedVersion}`), toV3(p)))
    s.types.upcast('order.placed', 1, 2, (p: V1) => (calls.push('1->2'), toV2(p)))
    expect(() => s.types.checkUpcasts()).not.toThrow()
    const e = s.get(ids[0]!)!
    expect(e.payload).toEqual({ sku: 'A', quantity: 1, currency: 'EUR' })
    expect(e.payload).toBe(e.payload) // cached: the steps ran once
    expect([e.version, e.storedVersion]).toEqual([3, 1])
    expect(calls).toEqual(['1->2', '2->3 1'])
    calls.length = 0
    const d = s.get(v2id)!
    expect([d.payload, d.version, d.storedVersion]).toEqual([{ sku: 'D', quantity: 4, currency: 'EUR' }, 3, 2])
    expect(calls).toEqual(['2->3 2'])
    expect(e.toJSON()).toMatchObject({ type: 'order.placed', version: 3, payload: { sku: 'A', quantity: 1, currency: 'EUR' } })
    expect(e.toJSON()).not.toHaveProperty('storedVersion') // stored at 1
    expect(d.toJSON()).toMatchObject({ version: 3, storedVersion: 2 })

    // An append at the current version is stored at it and read without any step.
    calls.length = 0
    const now = s.get(s.append(order, 'order.placed', { sku: 'E', quantity: 1, currency: 'USD' }).eventId)!
    expect([now.payload, now.version, now.storedVersion, calls]).toEqual([{ sku: 'E', quantity: 1, currency: 'USD' }, 3, 3, []])
    s.close()
  })

  it('registering the same step twice is a no-op; another function for it is E_TYPE_CONFLICT', () => {
    const s = open(tempDir())
    s.types.define('order.placed', { version: 2 })
    s.types.upcast('order.placed', 1, 2, toV2)
    expect(() => s.types.upcast('order.placed', 1, 2, toV2)).not.toThrow()
    expect(thrown(() => s.types.upcast('order.placed', 1, 2, (p) => p))).toMatchObject({ code: 'E_TYPE_CONFLICT', type: 'order.placed', fromVersion: 1 })
    s.close()
  })
})

describe('upcasting: what cannot be upcast is an error, never a wrong payload', () => {
  it('a missing step is E_UPCAST at read naming the type, stored version, current version and event, and at checkUpcasts', () => {
    const { dir, ids } = writtenAtV1()
    const s = open(dir)
    s.types.define('order.placed', { version: 3 })
    s.types.upcast('order.placed', 2, 3, toV3) // 1 -> 2 missing
    const e = s.get(ids[1]!)!
    const err = thrown(() => e.payload)
    expect(err).toMatchObject({ name: 'UpcastError', code: 'E_UPCAST', type: 'order.placed', fromVersion: 1, toVersion: 3, eventId: ids[1] })
    expect(err.message).toContain("store.types.upcast('order.placed', 1, 2, fn)")
    expect(thrown(() => e.version).code).toBe('E_UPCAST')
    expect(thrown(() => s.query(Region.all().withFact('order.placed')).map((x) => x.payload)).code).toBe('E_UPCAST')
    expect(thrown(() => s.types.checkUpcasts()).message).toContain('no upcast step 1 -> 2')
    expect(() => s.types.checkUpcasts('order.placed', 2)).not.toThrow() // if nothing older than v2 is stored
    // Other kinds read as ever; the stored bytes are still readable.
    expect(s.byFact(K).map((x) => x.payload)).toEqual([{ note: 'numeric' }])
    expect(e.payloadBytes.byteLength).toBeGreaterThan(0)
    s.close()
  })

  it('an upcaster that throws is E_UPCAST with the cause, type, version and event; nothing wrong is cached', () => {
    const { dir, ids } = writtenAtV1()
    const s = open(dir)
    s.types.define('order.placed', { version: 2 })
    let fail = true
    const boom = new Error('no qty mapping')
    s.types.upcast('order.placed', 1, 2, (p: V1) => {
      if (fail) throw boom
      return toV2(p)
    })
    const e = s.get(ids[2]!)!
    const err = thrown(() => e.payload)
    expect(err).toMatchObject({ code: 'E_UPCAST', type: 'order.placed', fromVersion: 1, toVersion: 2, eventId: ids[2] })
    expect(err.cause).toBe(boom)
    expect(err.message).toContain('no qty mapping')
    fail = false
    expect(e.payload).toEqual({ sku: 'C', quantity: 3 }) // read again, not the failure cached
    s.close()
  })

  it('an upcaster that reads event.payload of the event it upcasts is E_UPCAST, not endless recursion', () => {
    const { dir, ids } = writtenAtV1()
    const s = open(dir)
    s.types.define('order.placed', { version: 2 })
    s.types.upcast('order.placed', 1, 2, (_p, e) => (e as unknown as StoredEvent).payload)
    const err = thrown(() => s.get(ids[0]!)!.payload)
    expect(err.code).toBe('E_UPCAST')
    expect(String((err.cause as Error).message)).toContain('use its payload argument')
    s.close()
  })

  it('an event stored at a version newer than this process reads is E_UPCAST; a process without the type reads it as stored', () => {
    const dir = tempDir()
    const w = open(dir)
    w.types.define('order.placed', { version: 3 })
    const id = w.append(order, 'order.placed', { sku: 'A', quantity: 1, currency: 'EUR' }).eventId
    w.close()
    const old = open(dir)
    old.types.define('order.placed', { version: 2 })
    expect(thrown(() => old.get(id)!.payload)).toMatchObject({ code: 'E_UPCAST', type: 'order.placed', fromVersion: 3, toVersion: 2, eventId: id })
    expect(thrown(() => old.get(id)!.payload).message).toContain('newer')
    old.close()
    const tool = open(dir) // defines nothing: makes no claim about versions
    const e = tool.get(id)!
    expect([e.payload, e.version, e.storedVersion]).toEqual([{ sku: 'A', quantity: 1, currency: 'EUR' }, 3, 3])
    tool.close()
  })
})

describe('upcasting: steps belong to each process', () => {
  it('a second process reads the store with its own steps while the writer, open meanwhile, reads as stored', async () => {
    const { dir, ids } = writtenAtV1()
    const w = open(dir)
    w.types.define('order.placed')
    const fresh = w.append(other, 'order.placed', { sku: 'Z', qty: 9 }).eventId // appended while the writer is open
    w.sync()
    let line = ''
    const child = run('upcast-reader.cjs', [dir], (l) => (line = l))
    await exited(child)
    expect(child.exitCode).toBe(0)
    expect(JSON.parse(line)).toEqual([
      [ids[0], { sku: 'A', quantity: 1 }, 2, 1],
      [ids[1], { sku: 'B', quantity: 2 }, 2, 1],
      [ids[2], { sku: 'C', quantity: 3 }, 2, 1],
      [fresh, { sku: 'Z', quantity: 9 }, 2, 1],
    ])
    const raw = w.get(ids[0]!)!
    expect([raw.payload, raw.version]).toEqual([{ sku: 'A', qty: 1 }, 1])
    w.close()
  })
})
