/**
 * Target 8 (model half): random sequences of API calls, reopen included,
 * run against the store and against a plain in-memory model (fast-check
 * model-based testing, shrinking to the shortest failing sequence).
 * Pass: every receipt, every read and every refusal agrees with the model.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, isCausewayError, Region, Store } from '../../src/index.js'
import { figure, scale } from './profile.js'
import { scratch } from './tools.js'

const K = [EventKind.custom(1, 1), EventKind.custom(2, 7)]
const ENTITIES = ['order:1', 'order:2', 'user:a']

interface Ev {
  seq: number
  entity: string
  kind: number
  payload: unknown
}
interface Model {
  events: Ev[]
  keys: Map<string, number> // idempotency key -> sequence
}
interface Real {
  dir: string
  store: Store
}

const clock = (m: Model, entity: string) => m.events.filter((e) => e.entity === entity).length

function checkAll(m: Model, r: Real): void {
  const got = r.store.query(Region.all()).map((e) => ({ seq: Number(e.globalSequence), entity: e.coordinate.entity, kind: e.kind.value, payload: e.payload }))
  expect(got).toEqual(m.events)
}

class Append implements fc.Command<Model, Real> {
  constructor(readonly entity: string, readonly kind: number, readonly payload: unknown, readonly expected: 'none' | 'right' | 'wrong', readonly key: string | null, readonly durable: boolean) {}
  check = () => true
  run(m: Model, r: Real): void {
    const c = clock(m, this.entity)
    const opts: Record<string, unknown> = { durable: this.durable }
    if (this.expected !== 'none') opts.expectedSequence = this.expected === 'right' ? c : c + 1
    if (this.key) opts.idempotencyKey = this.key
    const known = this.key !== null ? m.keys.get(this.key) : undefined
    let receipt
    try {
      receipt = r.store.append(new Coordinate(this.entity, 'shop'), K[this.kind]!, this.payload, opts)
    } catch (e) {
      expect(known === undefined && this.expected === 'wrong', `unexpected ${String(e)}`).toBe(true)
      expect(isCausewayError(e, 'E_SEQUENCE_MISMATCH')).toBe(true)
      return
    }
    if (known !== undefined) {
      expect(receipt.deduplicated).toBe(true)
      expect(receipt.globalSequence).toBe(BigInt(known))
      return
    }
    expect(this.expected).not.toBe('wrong')
    expect(receipt.globalSequence).toBe(BigInt(m.events.length))
    expect(receipt.clock).toBe(c + 1)
    m.events.push({ seq: m.events.length, entity: this.entity, kind: K[this.kind]!.value, payload: this.payload })
    if (this.key) m.keys.set(this.key, m.events.length - 1)
  }
  toString = () => `append(${this.entity}, ${this.expected}, key=${this.key})`
}

class Batch implements fc.Command<Model, Real> {
  constructor(readonly items: Array<{ entity: string; payload: unknown }>, readonly poison: boolean) {}
  check = () => true
  run(m: Model, r: Real): void {
    const items = this.items.map((i) => ({ coord: new Coordinate(i.entity, 'shop'), kind: K[0]!, payload: i.payload as unknown }))
    if (this.poison) items.push({ coord: new Coordinate('order:1', 'shop'), kind: K[0]!, payload: NaN })
    try {
      const rs = r.store.appendBatch(items)
      expect(this.poison).toBe(false)
      rs.forEach((x, i) => expect(x.globalSequence).toBe(BigInt(m.events.length + i)))
      for (const i of this.items) m.events.push({ seq: m.events.length, entity: i.entity, kind: K[0]!.value, payload: i.payload })
    } catch (e) {
      expect(this.poison, String(e)).toBe(true)
      expect(isCausewayError(e, 'E_INVALID_PAYLOAD')).toBe(true)
    }
  }
  toString = () => `batch(${this.items.length}${this.poison ? ', bad item' : ''})`
}

class Read implements fc.Command<Model, Real> {
  constructor(readonly entity: string) {}
  check = () => true
  run(m: Model, r: Real): void {
    const got = r.store.stream(this.entity).map((e) => e.payload)
    expect(got).toEqual(m.events.filter((e) => e.entity === this.entity).map((e) => e.payload))
    const byKind = r.store.byFact(K[1]!).map((e) => Number(e.globalSequence))
    expect(byKind).toEqual(m.events.filter((e) => e.kind === K[1]!.value).map((e) => e.seq))
    const first = m.events.find((e) => e.entity === this.entity)
    if (first) {
      const id = r.store.stream(this.entity)[0]!.eventId
      expect(r.store.get(id)?.payload).toEqual(first.payload)
    }
  }
  toString = () => `read(${this.entity})`
}

// Paged reads (issue 16 part 6): a clock range of one entity and a window of
// the whole log after (or, reversed, before) a sequence, in small pages.
class PagedRead implements fc.Command<Model, Real> {
  constructor(
    readonly entity: string,
    readonly clocks: [number, number],
    readonly limit: number,
    readonly reverse: boolean,
    readonly after: number,
  ) {}
  check = () => true
  run(m: Model, r: Real): void {
    const [fromClock, toClock] = this.clocks[0] <= this.clocks[1] ? this.clocks : [this.clocks[1], this.clocks[0]]
    const { limit, reverse } = this
    const order = <T,>(xs: T[]) => (reverse ? xs.reverse() : xs).slice(0, limit)
    const mine = m.events.filter((e) => e.entity === this.entity).map((e, i) => ({ clock: i + 1, payload: e.payload }))
    const stream = r.store.stream(this.entity, { fromClock, toClock, limit, reverse, pageSize: 2 }).toArray()
    expect(stream.map((e) => ({ clock: e.clock, payload: e.payload }))).toEqual(order(mine.filter((e) => e.clock >= fromClock && e.clock <= toClock)))
    const window = r.store.query(Region.all(), { after: BigInt(this.after), limit, reverse, pageSize: 3 })
    expect([...window].map((e) => Number(e.globalSequence))).toEqual(order(m.events.filter((e) => (reverse ? e.seq < this.after : e.seq > this.after)).map((e) => e.seq)))
    expect(r.store.clockOf(this.entity)).toBe(mine.length)
  }
  toString = () => `paged(${this.entity}, clocks ${this.clocks.join('..')}, limit ${this.limit}${this.reverse ? ', reverse' : ''}, after ${this.after})`
}

class Reopen implements fc.Command<Model, Real> {
  check = () => true
  run(m: Model, r: Real): void {
    r.store.sync()
    r.store.close()
    expect(() => r.store.append(new Coordinate('a', 'b'), K[0]!, 1)).toThrow(/closed/)
    r.store = Store.open({ dataDir: r.dir, segmentMaxBytes: 4096 })
    checkAll(m, r)
  }
  toString = () => 'reopen'
}

class Bad implements fc.Command<Model, Real> {
  constructor(readonly which: number) {}
  check = () => true
  run(m: Model, r: Real): void {
    const calls = [
      () => r.store.append(new Coordinate('', 'shop'), K[0]!, 1),
      () => r.store.append(new Coordinate('a', 'shop'), K[0]!, { n: 10n }),
      () => r.store.append(new Coordinate('a', 'shop'), K[0]!, 1, { expectedSequence: -1 }),
      () => r.store.appendBatch([]),
      () => r.store.query(Region.all(), { limit: -1 }),
      () => r.store.stream('order:1', { fromClock: 3, toClock: 1 }),
    ]
    expect(() => calls[this.which % calls.length]!()).toThrow()
    expect(Number(r.store.stats().nextSequence)).toBe(m.events.length)
  }
  toString = () => `bad(${this.which})`
}

const payloadArb = fc.oneof(fc.integer(), fc.string({ maxLength: 300 }), fc.record({ a: fc.integer(), s: fc.string({ maxLength: 40 }) }), fc.constant(null))
const commands = [
  fc
    .tuple(fc.constantFrom(...ENTITIES), fc.integer({ min: 0, max: 1 }), payloadArb, fc.constantFrom('none' as const, 'right' as const, 'wrong' as const), fc.option(fc.constantFrom('k1', 'k2', 'k3'), { nil: null }), fc.boolean())
    .map(([e, k, p, x, key, d]) => new Append(e, k, p, x, key, d)),
  fc.tuple(fc.array(fc.record({ entity: fc.constantFrom(...ENTITIES), payload: payloadArb }), { minLength: 1, maxLength: 4 }), fc.boolean()).map(([items, poison]) => new Batch(items, poison)),
  fc.constantFrom(...ENTITIES).map((e) => new Read(e)),
  fc
    .tuple(fc.constantFrom(...ENTITIES), fc.tuple(fc.nat(12), fc.nat(12)), fc.nat(8), fc.boolean(), fc.nat(40))
    .map(([e, clocks, limit, reverse, after]) => new PagedRead(e, clocks, limit, reverse, after)),
  fc.constant(new Reopen()),
  fc.nat(10).map((n) => new Bad(n)),
]

describe('target 8: model-based API test', () => {
  it('agrees with an in-memory model over random sequences of appends, batches, reads, bad calls and reopens', () => {
    const runs = scale(200, 1000)
    let calls = 0
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 40 }), (cmds) => {
        const dir = scratch('model')
        const real: Real = { dir, store: Store.open({ dataDir: dir, segmentMaxBytes: 4096 }) }
        const model: Model = { events: [], keys: new Map() }
        try {
          fc.modelRun(() => ({ model, real }), cmds)
          checkAll(model, real)
          calls += [...cmds].length
        } finally {
          real.store.close()
        }
      }),
      { numRuns: runs, seed: Number(process.env.CAUSEWAY_MODEL_SEED ?? 20261124) },
    )
    figure(8, `fast-check model test: ${runs} random runs, ${calls} API calls (appends with expectedSequence and idempotency keys, batches with a bad item, reads, paged reads, bad calls, close and reopen): 0 divergences from the in-memory model`, { runs, calls })
  })
})
