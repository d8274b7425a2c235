// Tags and DCB queries: the native tag postings and any-of merge must give
// exactly what a brute-force filter over every event gives, forward, in
// reverse and page by page; appendIf and decide take a Query.
import { describe, expect, it } from 'vitest'
import {
  AppendConditionError,
  Coordinate,
  EventKind,
  InvalidTagError,
  isCausewayError,
  Query,
  type QueryItem,
  Region,
  Store,
  type Projection,
  type StoredEvent,
} from '../src/index.js'
import { tempDir } from './helpers.js'

const Raw = EventKind.custom(3, 7)
const TYPES = ['course.defined', 'student.enrolled', 'student.left']
const TAGS = ['course:c0', 'course:c1', 'course:c2', 'student:s0', 'student:s1', 'student:s2', 'student:s3', 'term:autumn']

/** A deterministic generator: a failure replays with the same events. */
function rng(seed: number): () => number {
  let x = seed >>> 0
  return () => {
    x = (x + 0x6d2b79f5) >>> 0
    let t = Math.imul(x ^ (x >>> 15), 1 | x)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const pick = <T>(r: () => number, from: readonly T[], n: number): T[] => {
  const out: T[] = []
  for (let i = 0; i < n; i++) {
    const v = from[Math.floor(r() * from.length)]!
    if (!out.includes(v)) out.push(v)
  }
  return out
}

function seeded(events: number, seed: number): Store {
  const s = Store.open({ dataDir: tempDir('dcb') })
  for (const t of TYPES) s.types.define(t)
  const r = rng(seed)
  const kinds: (string | EventKind)[] = [...TYPES, Raw]
  for (let i = 0; i < events; i++) {
    const kind = kinds[Math.floor(r() * kinds.length)]!
    const tags = pick(r, TAGS, Math.floor(r() * 4))
    // Singles and batches both: tags go through both encoders.
    if (i % 3 === 0) s.append(new Coordinate(`e:${i % 17}`, 'x'), kind, { i }, { tags })
    else s.appendBatch([{ coord: new Coordinate(`e:${i % 17}`, 'x'), kind, payload: { i }, tags }])
  }
  return s
}

function randomQuery(r: () => number): QueryItem[] {
  const items: QueryItem[] = []
  const n = 1 + Math.floor(r() * 3)
  for (let i = 0; i < n; i++) {
    let types: (string | EventKind)[] = pick(r, [...TYPES, Raw], Math.floor(r() * 3))
    const tags = pick(r, TAGS, Math.floor(r() * 3))
    if (types.length === 0 && tags.length === 0) types = [TYPES[1]!]
    items.push({ ...(types.length ? { types } : {}), ...(tags.length ? { tags } : {}) })
  }
  return items
}

/** The answer without the index: every event, filtered here. */
function bruteForce(all: readonly StoredEvent[], items: readonly QueryItem[]): bigint[] {
  const matches = (e: StoredEvent, it: QueryItem) =>
    (!it.types || it.types.some((t) => (typeof t === 'string' ? e.type === t : e.kind.equals(t)))) && (it.tags ?? []).every((t) => e.tags.includes(t))
  return all.filter((e) => items.some((it) => matches(e, it))).map((e) => e.globalSequence)
}

const seqs = (es: Iterable<StoredEvent>) => [...es].map((e) => e.globalSequence)

describe('DCB queries', () => {
  it('an OR of type-and-tag items from the index matches a brute-force filter over 3000 random events', () => {
    const s = seeded(3000, 1)
    const all = s.query(Region.all())
    const r = rng(99)
    for (let round = 0; round < 60; round++) {
      const items = randomQuery(r)
      const want = bruteForce(all, items)
      const q = Query.items(...items)
      expect(seqs(s.query(q)), `${q}`).toEqual(want)
      // A whole walk a page at a time, forward and back.
      expect(seqs(s.query(q, { pageSize: 7 })), `${q} paged`).toEqual(want)
      expect(seqs(s.query(q, { reverse: true, pageSize: 5 })), `${q} reversed`).toEqual([...want].reverse())
      const lim = 1 + Math.floor(r() * 20)
      expect(seqs(s.query(q, { reverse: true, limit: lim })), `${q} newest ${lim}`).toEqual([...want].reverse().slice(0, lim))
      if (want.length > 2) {
        const after = want[1]!
        expect(seqs(s.query(q, { after, limit: lim })), `${q} after ${after}`).toEqual(want.filter((x) => x > after).slice(0, lim))
      }
      const scanned: bigint[] = []
      for (const b of s.scan(q, { batchSize: 64 })) for (let i = 0; i < b.length; i++) scanned.push(b.globalSequence(i))
      expect(scanned, `${q} scanned`).toEqual(want)
    }
    s.close()
  })

  it('keeps each tag once, in the order given, for short and long tag lists alike (a repeat written twice would double a posting)', () => {
    const s = Store.open({ dataDir: tempDir('tag-repeats') })
    const c = new Coordinate('student:s9', 'uni')
    const long = Array.from({ length: 12 }, (_, i) => `t:${i % 10}`) // over the allocation-free path's 8
    s.append(c, Raw, 1, { tags: ['a', 'b', 'a', 'c', 'b'] })
    s.append(c, Raw, 2, { tags: long })
    s.appendBatch([{ coord: c, kind: Raw, payload: 3, tags: ['x', 'x', 'y'] }])
    s.append(c, Raw, 4, { tags: ['a'] })
    const got = s.query(Region.all()).map((e) => e.tags)
    expect(got).toEqual([['a', 'b', 'c'], Array.from({ length: 10 }, (_, i) => `t:${i}`), ['x', 'y'], ['a']])
    expect(seqs(s.query(Query.items({ tags: ['a'] })))).toEqual([0n, 3n])
    expect(() => s.append(c, Raw, 5, { tags: ['ok', 'bad\u0001'] })).toThrow(InvalidTagError)
    expect(s.query(Region.all())).toHaveLength(4)
    s.close()
  })

  it('writes a tag seen before with the same bytes, non-ASCII ones and past the checked-tag cache alike (a stale or truncated cached encoding would mislabel events)', () => {
    const s = Store.open({ dataDir: tempDir('tag-cache') })
    const c = new Coordinate('student:s9', 'uni')
    const tags = ['cours:é1', 'étudiant:s9', '課程:c1', 'plain:1']
    for (let i = 0; i < 3; i++) s.append(c, Raw, i, { tags })
    // More distinct tags than the cache holds, then the first ones again.
    for (let b = 0; b < 5; b++) s.appendBatch(Array.from({ length: 1000 }, (_, j) => ({ coord: c, kind: Raw, payload: j, tags: [`n:${b * 1000 + j}`] })))
    s.append(c, Raw, 9, { tags: [...tags].reverse() })
    const all = s.query(Region.all())
    expect(all.slice(0, 3).map((e) => e.tags)).toEqual([tags, tags, tags])
    expect(all[all.length - 1]!.tags).toEqual([...tags].reverse())
    expect(all[4]!.tags).toEqual(['n:1'])
    expect(seqs(s.query(Query.items({ tags: ['課程:c1'] })))).toEqual([0n, 1n, 2n, BigInt(all.length - 1)])
    // A refused tag is never remembered as checked.
    expect(() => s.append(c, Raw, 10, { tags: ['bad\u0085'] })).toThrow(InvalidTagError)
    expect(() => s.append(c, Raw, 10, { tags: ['bad\u0085'] })).toThrow(InvalidTagError)
    expect(s.query(Region.all())).toHaveLength(all.length)
    s.close()
  })

  it('Region.withTags ANDs its tags with the other parts, as the brute-force filter does', () => {
    const s = seeded(1500, 2)
    const all = s.query(Region.all())
    const region = Region.entity('e:3').withFact('student.enrolled').withTags('course:c1', 'term:autumn')
    const want = all
      .filter((e) => e.coordinate.entity === 'e:3' && e.type === 'student.enrolled' && e.tags.includes('course:c1') && e.tags.includes('term:autumn'))
      .map((e) => e.globalSequence)
    expect(seqs(s.query(region))).toEqual(want)
    expect(seqs(s.query(region.withTags('course:c1')))).toEqual(want)
    expect(seqs(s.query(Region.all().withTags('no:such:tag')))).toEqual([])
    s.close()
  })

  it('withOccurredRange selects by event time, occurredAt where given, and names itself in toString', () => {
    const s = Store.open({ dataDir: tempDir('dcb') })
    const c = new Coordinate('e:1', 'x')
    s.append(c, Raw, 1, { occurredAt: new Date('2020-01-01T00:00:00Z') })
    s.append(c, Raw, 2, { occurredAt: Date.parse('2020-06-01T00:00:00Z') })
    s.append(c, Raw, 3)
    const r = Region.all().withOccurredRange(new Date('2020-01-01T00:00:00Z'), Date.parse('2020-03-01T00:00:00Z'))
    expect(s.query(r).map((e) => e.payload)).toEqual([1])
    expect(s.query(Region.all().withOccurredRange(0, Date.parse('2021-01-01'))).map((e) => e.payload)).toEqual([1, 2])
    expect(r.toString()).toMatch(/\|occurred=\d+\.\.\d+$/)
    // Regions without the new parts keep their old names (cursor checkpoints are named after them).
    expect(Region.entity('order').toString()).toBe('entity=order|scope=*|fact=*|clock=*|time=*')
    expect(Region.all().withTags('b', 'a').toString()).toBe(Region.all().withTags('a', 'b').toString())
    s.close()
  })

  it('Query.all matches every event, and a cursor and a subscription deliver a query’s events only', async () => {
    const s = seeded(200, 3)
    expect(seqs(s.query(Query.all()))).toEqual(seqs(s.query(Region.all())))
    const q = Query.items({ tags: ['course:c2'] }, { types: ['student.left'] })
    const want = bruteForce(s.query(Region.all()), q.items)
    const cur = s.cursor(q)
    expect(seqs(cur.pollBatch(1000))).toEqual(want)
    const sub = s.subscribe(q)
    s.append(new Coordinate('e:1', 'x'), Raw, 0, { tags: ['course:c2'] })
    s.append(new Coordinate('e:1', 'x'), Raw, 0, { tags: ['course:c1'] })
    expect(sub.poll().events.map((e) => e.tags)).toEqual([['course:c2']])
    sub.close()
    cur.close()
    s.close()
  })

  it('a query naming an undefined type is refused with E_UNKNOWN_TYPE, and one with no items with E_INVALID_QUERY', () => {
    const s = seeded(10, 4)
    const code = (f: () => unknown) => {
      try {
        f()
      } catch (e) {
        return isCausewayError(e) ? e.code : String(e)
      }
      return 'no error'
    }
    expect(code(() => s.query(Query.items({ types: ['nope'] })))).toBe('E_UNKNOWN_TYPE')
    expect(code(() => Query.items())).toBe('E_INVALID_QUERY')
    expect(code(() => Query.items({ types: [] }))).toBe('E_INVALID_QUERY')
    s.close()
  })

  it('appendIf with a Query fails on a newer matching event and writes nothing, and passes when only other tags moved', () => {
    const s = seeded(100, 5)
    const q = Query.items({ types: ['student.enrolled'], tags: ['course:c9'] })
    const c = new Coordinate('e:9', 'x')
    const seen = s.decide(q, [{ name: 'n', version: 1, init: () => 0, apply: (n: number) => n + 1 }])
    expect(seen.position).toBeNull()
    // Another course: not in the query, so no conflict.
    s.append(c, 'student.enrolled', {}, { tags: ['course:c8'] })
    const [ok] = s.appendIf([{ coord: c, kind: 'student.enrolled', payload: {}, tags: ['course:c9'] }], { failIfEventsMatch: q, after: seen.position })
    expect(ok!.globalSequence).toBeGreaterThan(0n)
    // The same decision again: the event just written now conflicts.
    const before = s.stats().events
    let err: unknown
    try {
      s.appendIf([{ coord: c, kind: 'student.enrolled', payload: {}, tags: ['course:c9'] }], { failIfEventsMatch: q, after: seen.position })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(AppendConditionError)
    expect(s.stats().events).toBe(before)
    // Query.all() conflicts with any newer event at all.
    expect(() => s.appendIf([{ coord: c, kind: Raw, payload: 0 }], { failIfEventsMatch: Query.all(), after: ok!.globalSequence - 1n })).toThrow(AppendConditionError)
    s.close()
  })

  it('decide folds each projection over one read, honours each projection’s kinds, and returns the last match’s position', () => {
    const s = Store.open({ dataDir: tempDir('dcb') })
    for (const t of TYPES) s.types.define(t)
    const c = new Coordinate('e:1', 'x')
    s.append(c, 'course.defined', { capacity: 2 }, { tags: ['course:c1'] })
    s.append(c, 'student.enrolled', {}, { tags: ['course:c1', 'student:s1'] })
    s.append(c, 'student.enrolled', {}, { tags: ['course:c0', 'student:s1'] })
    const last = s.append(c, 'student.left', {}, { tags: ['course:c0', 'student:s1'] })
    s.append(c, 'student.enrolled', {}, { tags: ['course:c2', 'student:s2'] })
    const capacity: Projection<number, { capacity: number }> = { name: 'cap', version: 1, kinds: ['course.defined'], init: () => 0, apply: (_, e) => e.payload.capacity }
    const enrolled: Projection<number> = { name: 'enr', version: 1, kinds: ['student.enrolled'], init: () => 0, apply: (n) => n + 1 }
    const all: Projection<number> = { name: 'all', version: 1, init: () => 0, apply: (n) => n + 1 }
    const q = Query.items({ tags: ['course:c1'] }, { tags: ['student:s1'] })
    const d = s.decide(q, { capacity, enrolled, all })
    expect(d.states).toEqual({ capacity: 2, enrolled: 2, all: 4 })
    expect(d.position).toBe(last.globalSequence)
    expect(d.events).toBe(4)
    const t = s.decide(q, [capacity, all] as const)
    expect(t.states).toEqual([2, 4])
    expect(s.decide(Query.items({ tags: ['none'] }), [all]).position).toBeNull()
    // A Region works too.
    expect(s.decide(Region.all().withTags('student:s2'), [all]).states).toEqual([1])
    s.close()
  })
})
