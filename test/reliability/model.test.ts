/**
 * Target 8 (model half): random sequences of API calls, reopen included,
 * run against the store and against a plain in-memory model (fast-check
 * model-based testing, shrinking to the shortest failing sequence).
 * Pass: every receipt, every read and every refusal agrees with the model.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, isCausewayError, Query, Region, Store } from '../../src/index.js'
import { figure, scale } from './profile.js'
import { scratch } from './tools.js'

const K = [EventKind.custom(1, 1), EventKind.custom(2, 7)]
const ENTITIES = ['order:1', 'order:2', 'user:a']
const TAGS = ['course:c1', 'course:c2', 'student:s7']

interface Ev {
  seq: number
  entity: string
  kind: number
  payload: unknown
  tags: string[]
  occurredAtUs: number | null
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
  const got = r.store.query(Region.all()).map((e) => ({
    seq: Number(e.globalSequence),
    entity: e.coordinate.entity,
    kind: e.kind.value,
    payload: e.payload,
    tags: e.tags,
    occurredAtUs: e.hasOccurredAt ? e.occurredAtUs : null,
  }))
  expect(got).toEqual(m.events)
}

class Append implements fc.Command<Model, Real> {
  constructor(
    readonly entity: string,
    readonly kind: number,
    readonly payload: unknown,
    readonly expected: 'none' | 'right' | 'wrong',
    readonly key: string | null,
    readonly durable: boolean,
    readonly tags: string[],
    readonly occurredMs: number | null,
  ) {}
  check = () => true
  run(m: Model, r: Real): void {
    const c = clock(m, this.entity)
    const opts: Record<string, unknown> = { durable: this.durable }
    if (this.expected !== 'none') opts.expectedSequence = this.expected === 'right' ? c : c + 1
    if (this.key) opts.idempotencyKey = this.key
    if (this.tags.length > 0) opts.tags = this.tags
    if (this.occurredMs !== null) opts.occurredAt = this.occurredMs
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
    const tags = [...new Set(this.tags)]
    const occurredAtUs = this.occurredMs === null ? null : this.occurredMs * 1000
    m.events.push({ seq: m.events.length, entity: this.entity, kind: K[this.kind]!.value, payload: this.payload, tags, occurredAtUs })
    if (this.key) m.keys.set(this.key, m.events.length - 1)
  }
  toString = () => `append(${this.entity}, ${this.expected}, key=${this.key}, tags=[${this.tags}], occurred=${this.occurredMs})`
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
      for (const i of this.items) m.events.push({ seq: m.events.length, entity: i.entity, kind: K[0]!.value, payload: i.payload, tags: [], occurredAtUs: null })
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

// DCB queries (issue 16 part 4): an OR of items, each the kinds it may have
// and the tags it must all carry, paged either way, against the model.
class TagQuery implements fc.Command<Model, Real> {
  constructor(
    readonly items: Array<{ kinds: number[]; tags: string[] }>,
    readonly limit: number,
    readonly reverse: boolean,
  ) {}
  check = () => true
  run(m: Model, r: Real): void {
    const items = this.items.map((it) => ({
      ...(it.kinds.length > 0 ? { types: it.kinds.map((k) => K[k]!) } : {}),
      tags: [...new Set(it.tags)],
    }))
    const matches = (e: Ev) => items.some((it) => (it.types === undefined || it.types.some((k) => k.value === e.kind)) && it.tags.every((t) => e.tags.includes(t)))
    const want = m.events.filter(matches).map((e) => e.seq)
    const { limit, reverse } = this
    const got = [...r.store.query(Query.items(...items), { limit, reverse, pageSize: 2 })].map((e) => Number(e.globalSequence))
    expect(got).toEqual((reverse ? want.reverse() : want).slice(0, limit))
  }
  toString = () => `tagQuery(${JSON.stringify(this.items)}, limit ${this.limit}${this.reverse ? ', reverse' : ''})`
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
      () => r.store.append(new Coordinate('a', 'shop'), K[0]!, 1, { tags: ['ok', 'bad\n'] }),
      () => r.store.query(Query.items()),
      () => r.store.append(new Coordinate('a', 'shop'), K[0]!, 1, { occurredAt: Number.NaN }),
    ]
    expect(() => calls[this.which % calls.length]!()).toThrow()
    expect(Number(r.store.stats().nextSequence)).toBe(m.events.length)
  }
  toString = () => `bad(${this.which})`
}

const payloadArb = fc.oneof(fc.integer(), fc.string({ maxLength: 300 }), fc.record({ a: fc.integer(), s: fc.string({ maxLength: 40 }) }), fc.constant(null))
const commands = [
  fc
    .tuple(
      fc.constantFrom(...ENTITIES),
      fc.integer({ min: 0, max: 1 }),
      payloadArb,
      fc.constantFrom('none' as const, 'right' as const, 'wrong' as const),
      fc.option(fc.constantFrom('k1', 'k2', 'k3'), { nil: null }),
      fc.boolean(),
      fc.array(fc.constantFrom(...TAGS), { maxLength: 3 }),
      fc.option(fc.integer({ min: -1e12, max: 4e12 }), { nil: null }),
    )
    .map(([e, k, p, x, key, d, tags, at]) => new Append(e, k, p, x, key, d, tags, at)),
  fc.tuple(fc.array(fc.record({ entity: fc.constantFrom(...ENTITIES), payload: payloadArb }), { minLength: 1, maxLength: 4 }), fc.boolean()).map(([items, poison]) => new Batch(items, poison)),
  fc.constantFrom(...ENTITIES).map((e) => new Read(e)),
  fc
    .tuple(fc.constantFrom(...ENTITIES), fc.tuple(fc.nat(12), fc.nat(12)), fc.nat(8), fc.boolean(), fc.nat(40))
    .map(([e, clocks, limit, reverse, after]) => new PagedRead(e, clocks, limit, reverse, after)),
  fc
    .tuple(
      fc.array(fc.record({ kinds: fc.array(fc.integer({ min: 0, max: 1 }), { maxLength: 2 }), tags: fc.array(fc.constantFrom(...TAGS), { minLength: 1, maxLength: 2 }) }), { minLength: 1, maxLength: 3 }),
      fc.integer({ min: 1, max: 8 }),
      fc.boolean(),
    )
    .map(([items, limit, reverse]) => new TagQuery(items, limit, reverse)),
  fc.constant(new Reopen()),
  fc.nat(10).map((n) => new Bad(n)),
]

describe('target 8: model-based API test', () => {
  it('agrees with an in-memory model over random sequences of appends, batches, reads, tag queries, bad calls and reopens', () => {
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
    figure(8, `fast-check model test: ${runs} random runs, ${calls} API calls (appends with expectedSequence, idempotency keys, tags and event times, batches with a bad item, reads, paged reads, DCB tag queries, bad calls, close and reopen): 0 divergences from the in-memory model`, { runs, calls })
  })
})
