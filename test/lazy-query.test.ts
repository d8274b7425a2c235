// Large results of a plain query() / stream() read their events lazily, a
// chunk of 4096 at a time (src/lazy-events.ts): these tests hold them to a
// plain array's behaviour, to the events scan() reads, to the snapshot taken
// at the call, and to the CRC check and closed-store errors of the eager read.
import * as fs from 'node:fs'
import { types } from 'node:util'
import * as v8 from 'node:v8'
import * as vm from 'node:vm'
import { unpack } from 'msgpackr'
import { beforeAll, afterAll, describe, expect, it } from 'vitest'
import { Coordinate, CorruptionError, EventKind, Query, Region, Store, StoreClosedError, type StoredEvent } from '../src/index.js'
import { frameOffsets, segmentFiles, tempDir } from './helpers.js'

const A = EventKind.custom(1, 1)
const B = EventKind.custom(1, 2)
// 2 full chunks and a partial third: 4096 + 4096 + 1808.
const N = 10_000

/** Appends n events: entity e<i % 2> (5000 each of the first N), scope s0 below 5000 else s1, kind B every 4th, tag t<i % 3>, an occurredAt every 5th. */
function fill(s: Store, n: number, from = 0): void {
  for (let i = from; i < from + n; i += 500) {
    const items = []
    for (let j = i; j < Math.min(from + n, i + 500); j++) {
      items.push({ coord: new Coordinate(`e${j % 2}`, `s${j < 5000 ? 0 : 1}`), kind: j % 4 ? A : B, payload: { i: j, qty: j % 7, note: 'n'.repeat(j % 40) }, tags: [`t${j % 3}`], ...(j % 5 === 0 ? { occurredAt: 1_700_000_000_000 + j } : {}) })
    }
    s.appendBatch(items)
  }
}

/** The events scan() reads for the selection, as JSON. */
function scanned(s: Store, sel: Region | Query): unknown[] {
  const out: unknown[] = []
  for (const b of s.scan(sel)) for (let i = 0; i < b.length; i++) out.push(b.event(i).toJSON())
  return out
}

/** Equal lists of JSON events, reporting the first position that differs (no deep diff of 10k events). */
function expectSameJson(got: unknown[], want: unknown[]): void {
  const a = got.map((x) => JSON.stringify(x))
  const b = want.map((x) => JSON.stringify(x))
  const at = a.findIndex((x, i) => x !== b[i])
  expect(at === -1 ? undefined : { at, got: a[at], want: b[at] }).toBeUndefined()
  expect(a.length).toBe(b.length)
}

// A full GC on demand (vitest runs without --expose-gc).
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void
// A WeakRef keeps its target alive until the current job ends: collect after a turn.
const turn = () => new Promise((r) => setImmediate(r))

const seqs = (evs: Iterable<StoredEvent>): bigint[] => Array.from(evs, (e) => e.globalSequence)

describe('query() and stream() without options, over 4096 events', () => {
  let dir: string
  let s: Store
  beforeAll(() => {
    dir = tempDir('lazy')
    s = Store.open({ dataDir: dir })
    fill(s, N)
  })
  afterAll(() => s.close())

  it('hands out the same events as scan(), in order, through for...of and through index access', () => {
    // Every field (toJSON) for the whole store; sequences and payloads for the narrower selections.
    const want = scanned(s, Region.all())
    const viaForOf: unknown[] = []
    for (const e of s.query(Region.all())) viaForOf.push(e.toJSON())
    expectSameJson(viaForOf, want)
    const all = s.query(Region.all())
    expect(types.isProxy(all)).toBe(true) // the lazy form is in use
    const viaIndex: unknown[] = []
    for (let i = 0; i < all.length; i++) viaIndex.push(all[i]!.toJSON())
    expectSameJson(viaIndex, want)

    const brief = (e: StoredEvent) => `${e.globalSequence} ${e.coordinate.entity} ${JSON.stringify(e.payload)}`
    const dcb = Query.items({ tags: ['t0'] }, { types: [B] })
    for (const [sel, read] of [
      [Region.entity('e0'), () => s.stream('e0')],
      [dcb, () => s.query(dcb)],
      [Region.scope('s1'), () => s.byScope('s1')],
      [Region.all().withFact(A), () => s.byFact(A)],
    ] as const) {
      const wanted: string[] = []
      for (const b of s.scan(sel)) for (let i = 0; i < b.length; i++) wanted.push(brief(b.event(i)))
      expect(wanted.length).toBeGreaterThan(4096)
      expect(Array.from(read(), brief)).toEqual(wanted)
      const evs = read()
      expect(types.isProxy(evs)).toBe(true)
      expect(evs.map(brief)).toEqual(wanted)
    }
  })

  it('decodes payloads in place without mixing up neighbours: payload.i is the event position', () => {
    let k = 0
    for (const e of s.query(Region.all())) {
      expect(e.payload).toEqual({ i: k, qty: k % 7, note: 'n'.repeat(k % 40) })
      k++
    }
    expect(k).toBe(N)
  })

  it('behaves as a plain array for every Array method, spread and JSON', () => {
    const evs = s.query(Region.all())
    const ref = s.query(Region.all()).slice() // a plain array of the same events
    expect(types.isProxy(ref)).toBe(false)
    const seq = (e: StoredEvent | undefined) => e?.globalSequence
    expect(Array.isArray(evs)).toBe(true)
    expect(evs).toBeInstanceOf(Array)
    expect(evs.length).toBe(N)
    expect(0 in evs && 9999 in evs && !(10_000 in evs)).toBe(true)
    expect(evs[N]).toBeUndefined()
    expect(seq(evs.at(-1))).toBe(seq(ref[N - 1]))
    expect(seq(evs[5000])).toBe(5000n) // sequences run 0.. in this store
    expect(evs[5000]).toBe(evs[5000]) // an index access keeps its chunk: the same object again
    expect(evs.indexOf(evs[8500]!)).toBe(8500)
    expect(evs.includes(evs[9999]!)).toBe(true)
    expect(evs.map(seq)).toEqual(ref.map(seq))
    expect(seqs(evs.filter((e) => e.clock % 5 === 0))).toEqual(seqs(ref.filter((e) => e.clock % 5 === 0)))
    expect(seqs(evs.slice(4090, 4100))).toEqual(seqs(ref.slice(4090, 4100)))
    expect(seqs(evs.slice(-3))).toEqual([9997n, 9998n, 9999n])
    expect(evs.reduce((n, e) => n + (e.payload as { qty: number }).qty, 0)).toBe(ref.reduce((n, e) => n + (e.payload as { qty: number }).qty, 0))
    let each = 0
    evs.forEach((e, i, arr) => {
      expect(arr).toBe(evs)
      if (e.globalSequence === BigInt(i)) each++
    })
    expect(each).toBe(N)
    expect(seq(evs.find((e) => e.clock === 3000))).toBe(seq(ref.find((e) => e.clock === 3000)))
    expect(evs.findIndex((e) => e.globalSequence === 7777n)).toBe(7777)
    expect(evs.findLastIndex((e) => e.coordinate.entity === 'e1')).toBe(ref.findLastIndex((e) => e.coordinate.entity === 'e1'))
    expect(evs.some((e) => e.globalSequence === 9999n) && evs.every((e) => e.kind.value === A.value || e.kind.value === B.value)).toBe(true)
    expect([...evs.keys()].length).toBe(N)
    expect(seqs([...evs.values()])).toEqual(seqs(ref))
    expect([...evs.entries()][9000]![0]).toBe(9000)
    expect(seqs([...evs])).toEqual(seqs(ref))
    expect(seqs(Array.from(evs))).toEqual(seqs(ref))
    const [first, second, ...rest] = evs
    expect([seq(first), seq(second), rest.length]).toEqual([0n, 1n, N - 2])
    expect(seqs(evs.concat(ref.slice(0, 2)))).toEqual(seqs([...ref, ref[0]!, ref[1]!]))
    expect(seqs(ref.concat(evs)).length).toBe(2 * N)
    expect(JSON.stringify(evs)).toBe(JSON.stringify(ref))
    expect(Object.keys(evs).length).toBe(N)
    expect(evs.join(',').length).toBe(ref.join(',').length)
  })

  it('becomes a plain array when written to: push, sort, reverse, splice and assignment act as on an array', () => {
    const evs = s.query(Region.all())
    const ref = s.query(Region.all()).slice()
    const extra = evs[0]!
    expect(evs.push(extra)).toBe(N + 1)
    ref.push(extra)
    expect(evs.length).toBe(N + 1)
    expect(evs[N]).toBe(extra)
    expect(evs.pop()).toBe(extra)
    ref.pop()
    evs.reverse()
    ref.reverse()
    expect(seqs(evs)).toEqual(seqs(ref))
    evs.sort((a, b) => Number(a.globalSequence - b.globalSequence))
    expect(seqs(evs)).toEqual(seqs(ref.reverse()))
    expect(seqs(evs.splice(4095, 3))).toEqual([4095n, 4096n, 4097n])
    expect(evs.length).toBe(N - 3)
    evs[0] = evs[1]!
    expect(evs[0]).toBe(evs[1])
    evs.length = 10
    expect(seqs([...evs])).toEqual([1n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n])
  })

  it('for...of keeps only the chunk it is in: an event of a chunk it left is collected, one read by index is kept', async () => {
    const evs = s.query(Region.all())
    const it = evs[Symbol.iterator]()
    for (let n = 0; n < 5000; n++) it.next()
    const left = new WeakRef(it.next().value as StoredEvent) // event 5000, chunk 1
    const byIndex = new WeakRef(evs[9500]!) // chunk 2, read by index: kept by the array
    await turn()
    for (let n = 5001; n < 9000; n++) it.next() // now in chunk 2
    await turn()
    gc()
    expect(left.deref()).toBeUndefined()
    expect(byIndex.deref()).toBe(evs[9500])
    expect((it.next().value as StoredEvent).globalSequence).toBe(9000n)
  })

  it('a write during for...of is seen by the loop, as on an array', () => {
    const evs = s.query(Region.all())
    let n = 0
    for (const e of evs) {
      if (n === 10) evs.length = 4100 // made plain mid-chunk: the loop ends where the array now ends
      expect(e.globalSequence).toBe(BigInt(n))
      n++
    }
    expect(n).toBe(4100)
  })

  it('keeps small results plain arrays', () => {
    const small = s.query(Region.scope('s0').withFact(B))
    expect(small.length).toBeLessThanOrEqual(4096)
    expect(types.isProxy(small)).toBe(false)
    expect(types.isProxy(s.stream('nobody'))).toBe(false)
  })

  it('leaves the paged forms alone: reverse, limit and after still return EventPages', () => {
    expect(seqs(s.query(Region.all(), { reverse: true, limit: 3 }).toArray())).toEqual([9999n, 9998n, 9997n])
    expect(seqs(s.query(Region.all(), { after: 9996n }).toArray())).toEqual([9997n, 9998n, 9999n])
    const e0 = s.stream('e0').map((e) => e.clock)
    expect(s.stream('e0', { reverse: true, limit: 2 }).toArray().map((e) => e.clock)).toEqual([e0.at(-1), e0.at(-2)])
  })
})

describe('a large result is a snapshot of the call', () => {
  it('never shows events appended after the call, in any chunk', () => {
    const s = Store.open({ dataDir: tempDir('lazy-snap') })
    fill(s, N)
    const evs = s.query(Region.all())
    const stream = s.stream('e0')
    const e0 = stream.length
    fill(s, 5000, N) // lands after every chunk's start
    expect(evs.length).toBe(N)
    expect(seqs(evs).at(-1)).toBe(BigInt(N - 1))
    let n = 0
    for (const e of evs) expect(e.globalSequence).toBe(BigInt(n++))
    expect(n).toBe(N)
    expect(evs[N]).toBeUndefined()
    expect(stream.length).toBe(e0)
    expect([...stream].length).toBe(e0)
    expect(s.query(Region.all()).length).toBe(N + 5000) // a new call sees them
    s.close()
  })
})

describe('a large result after the store closed', () => {
  it('throws StoreClosedError (E_STORE_CLOSED) on use, never hands out garbage', () => {
    const s = Store.open({ dataDir: tempDir('lazy-closed') })
    fill(s, N)
    const evs = s.query(Region.all())
    const it1 = evs[Symbol.iterator]()
    it1.next()
    void evs[5000] // chunk 1 read before the close
    s.close()
    const uses: Array<() => unknown> = [
      () => evs[9000], // a chunk never read
      () => evs[5000], // a chunk read before the close
      () => evs[0],
      () => [...evs],
      () => it1.next(),
      () => evs.map((e) => e.clock),
      () => JSON.stringify(evs),
    ]
    for (const use of uses) {
      let err: unknown
      try {
        use()
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(StoreClosedError)
      expect((err as StoreClosedError).code).toBe('E_STORE_CLOSED')
    }
    expect(evs.length).toBe(N) // known at the call: needs no store
  })
})

describe('a damaged frame in a later chunk', () => {
  it('throws CorruptionError when the loop reaches it, after the intact chunks', () => {
    const dir = tempDir('lazy-damage')
    const w = Store.open({ dataDir: dir })
    fill(w, N)
    w.close()
    // Event N - 250, in chunk 2, inside the last batch (open checks each batch's end frame, not the ones before it).
    const seg = segmentFiles(dir).at(-1)!
    const b = fs.readFileSync(seg)
    const victim = frameOffsets(b).at(-250)!
    b[victim.at + victim.len - 3]! ^= 0x80
    fs.writeFileSync(seg, b)

    const s = Store.open({ dataDir: dir })
    const evs = s.query(Region.all()) // the damaged frame is not read yet
    expect(evs.length).toBe(N)
    expect(evs[0]!.payload).toEqual({ i: 0, qty: 0, note: '' })
    let handed = 0
    expect(() => {
      for (const e of evs) {
        void e.payload
        handed++
      }
    }).toThrow(CorruptionError)
    expect(handed).toBe(2 * 4096) // every event of the intact chunks, none of the damaged one
    expect(() => evs[N - 1]).toThrow(CorruptionError)
    expect(s.stream('e0')[4000]!.payload).toEqual({ i: 8000, qty: 8000 % 7, note: 'n'.repeat(8000 % 40) })
    expect(() => s.stream('e0')[4875]).toThrow(CorruptionError) // e0's event 4875 is event 9750
    s.close()
  })
})

describe('upcasting through a large result', () => {
  it('hands out payloads upcast to the current version in every chunk, stored bytes as written', () => {
    const dir = tempDir('lazy-upcast')
    const w = Store.open({ dataDir: dir })
    w.types.define('order.placed')
    for (let i = 0; i < 6000; i += 500) {
      w.appendBatch(Array.from({ length: 500 }, (_, j) => ({ coord: new Coordinate(`o${(i + j) % 5}`, 'shop'), kind: 'order.placed', payload: { sku: `S${i + j}`, qty: i + j } })))
    }
    w.close()
    const s = Store.open({ dataDir: dir })
    s.types.define('order.placed', { version: 2 })
    s.types.upcast<{ sku: string; qty: number }, { sku: string; quantity: number }>('order.placed', 1, 2, (p) => ({ sku: p.sku, quantity: p.qty }))
    const placed = Region.all().withFact('order.placed')
    let n = 0
    for (const e of s.query(placed)) {
      expect([e.payload, e.version, e.storedVersion, e.type]).toEqual([{ sku: `S${n}`, quantity: n }, 2, 1, 'order.placed'])
      n++
    }
    expect(n).toBe(6000)
    const evs = s.query(placed)
    expect(types.isProxy(evs)).toBe(true)
    expect(evs[5999]!.payload).toEqual({ sku: 'S5999', quantity: 5999 })
    expect(unpack(evs[5999]!.payloadBytes)).toEqual({ sku: 'S5999', qty: 5999 }) // the bytes as stored, at v1
    s.close()
  })
})
