import { afterEach, describe, expect, it, vi } from 'vitest'
import { cacheGet, cacheKey, cachePut } from '../src/projection/cache.js'
import {
  AppendConditionError,
  Coordinate,
  EventKind,
  InvalidArgumentError,
  MAX_CACHE_ENTRIES,
  Region,
  Store,
  type Projection,
  type StoredEvent,
} from '../src/index.js'
import { tempDir } from './helpers.js'

const Deposited = EventKind.custom(1, 1)
const Withdrawn = EventKind.custom(1, 2)
const Noted = EventKind.custom(2, 1)
const acct = new Coordinate('acct:1', 'bank')

/** A balance projection whose apply calls are counted. */
function balance(version = 1): Projection<number, { amount: number }> & { calls: number } {
  const p = {
    name: 'balance',
    version,
    kinds: [Deposited, Withdrawn],
    calls: 0,
    init: () => 0,
    apply(s: number, e: StoredEvent<{ amount: number }>) {
      p.calls++
      return e.kind.equals(Deposited) ? s + e.payload.amount : s - e.payload.amount
    },
  }
  return p
}

const count: Projection<number> = { name: 'count', version: 1, init: () => 0, apply: (n) => n + 1 }

function open(): Store {
  return Store.open({ dataDir: tempDir() })
}

afterEach(() => {
  vi.useRealTimers()
})

describe('project', () => {
  it('folds the entity events from init, and only that exact entity', () => {
    const s = open()
    s.append(acct, Deposited, { amount: 10 })
    s.append(new Coordinate('acct:1:sub', 'bank'), Deposited, { amount: 1000 })
    s.append(acct, Withdrawn, { amount: 3 })
    const r = s.project(acct, balance())
    expect(r).toEqual({ state: 7, position: 2n, eventsApplied: 2, cacheHit: false })
    expect(s.project('nobody', balance())).toEqual({ state: 0, position: null, eventsApplied: 0, cacheHit: false })
    s.close()
  })

  it('applies only the events newer than the cached state on a cache hit', () => {
    const s = open()
    for (let i = 0; i < 3; i++) s.append(acct, Deposited, { amount: 1 })
    const p = balance()
    expect(s.project('acct:1', p).eventsApplied).toBe(3)
    s.append(acct, Deposited, { amount: 10 })
    s.append(acct, Withdrawn, { amount: 2 })
    const spy = vi.spyOn(s, 'readFiltered')
    const r = s.project('acct:1', p)
    expect(r).toEqual({ state: 11, position: 4n, eventsApplied: 2, cacheHit: true })
    expect(p.calls).toBe(5)
    expect(spy.mock.calls[0]![0]).toMatchObject({ fromSequence: 3 })
    expect(s.project('acct:1', p)).toEqual({ state: 11, position: 4n, eventsApplied: 0, cacheHit: true })
    s.close()
  })

  it('does not use a cached state of another version', () => {
    const s = open()
    s.append(acct, Deposited, { amount: 5 })
    s.project(acct, balance(1))
    const v2 = balance(2)
    expect(s.project(acct, v2)).toMatchObject({ state: 5, eventsApplied: 1, cacheHit: false })
    expect(v2.calls).toBe(1)
    s.close()
  })

  it('applies only the listed kinds, and position names the last event folded', () => {
    const s = open()
    s.append(acct, Deposited, { amount: 5 })
    s.append(acct, Noted, { text: 'hi' })
    const r = s.project(acct, balance())
    expect(r).toEqual({ state: 5, position: 0n, eventsApplied: 1, cacheHit: false })
    s.append(acct, Noted, { text: 'again' })
    expect(s.project(acct, balance()).eventsApplied).toBe(0)
    expect(s.project(acct, count).state).toBe(3)
    s.close()
  })

  it('folds the state as it was at a sequence or a timestamp, without touching the cache', () => {
    const s = open()
    const msOf = (r: { timestampUs: number }) => Math.floor(r.timestampUs / 1000)
    const nextMs = (r: { timestampUs: number }) => {
      while (Date.now() <= msOf(r) + 1) {
        /* the next event lands in a later millisecond */
      }
    }
    const r1 = s.append(acct, Deposited, { amount: 1 })
    s.append(new Coordinate('other', 'bank'), Deposited, { amount: 99 })
    nextMs(r1)
    const r2 = s.append(acct, Deposited, { amount: 10 })
    nextMs(r2)
    s.append(acct, Deposited, { amount: 100 })
    expect(s.project(acct, balance(), { asOf: { sequence: r2.globalSequence } })).toEqual({ state: 11, position: 2n, eventsApplied: 2, cacheHit: false })
    expect(s.project(acct, balance(), { asOf: { sequence: 1n } }).state).toBe(1)
    expect(s.project(acct, balance(), { asOf: { timestampMs: msOf(r2) } }).state).toBe(11)
    expect(s.project(acct, balance(), { asOf: { timestampMs: msOf(r1) } }).state).toBe(1)
    expect(s.project(acct, balance(), { asOf: { timestampMs: msOf(r1) - 1 } }).state).toBe(0)
    expect(s.project(acct, balance()).cacheHit).toBe(false) // asOf neither read nor filled the cache
    expect(s.project(acct, balance(), { asOf: { sequence: 0n } })).toMatchObject({ state: 1, cacheHit: false })
    s.close()
  })

  it('returns a cached state up to maxStaleMs old without reading, and catches up after', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(1_000_000)
    const s = open()
    s.append(acct, Deposited, { amount: 1 })
    expect(s.project(acct, balance()).state).toBe(1)
    s.append(acct, Deposited, { amount: 2 })
    const spy = vi.spyOn(s, 'readFiltered')
    vi.setSystemTime(1_000_500)
    expect(s.project(acct, balance(), { freshness: { maxStaleMs: 500 } })).toEqual({ state: 1, position: 0n, eventsApplied: 0, cacheHit: true })
    expect(spy).not.toHaveBeenCalled()
    vi.setSystemTime(1_000_501)
    expect(s.project(acct, balance(), { freshness: { maxStaleMs: 500 } })).toMatchObject({ state: 3, eventsApplied: 1, cacheHit: true })
    expect(spy).toHaveBeenCalledTimes(1)
    expect(s.project(acct, balance(), { freshness: 'consistent' }).eventsApplied).toBe(0)
    s.close()
  })

  it('gives a position that appendIf accepts until the entity changes', () => {
    const s = open()
    s.append(acct, Deposited, { amount: 5 })
    const { state, position } = s.project(acct, balance())
    const item = { coord: acct, kind: Withdrawn, payload: { amount: state } }
    const guard = { failIfEventsMatch: Region.entity('acct:1'), after: position }
    expect(s.appendIf([item], guard)).toHaveLength(1)
    expect(() => s.appendIf([item], guard)).toThrow(AppendConditionError)
    s.close()
  })

  it('refuses malformed projections and options with InvalidArgumentError', () => {
    const s = open()
    const bad = [
      { ...count, name: '' },
      { ...count, version: -1 },
      { ...count, version: 1.5 },
      { ...count, apply: 'x' },
      { ...count, kinds: [1] },
    ]
    for (const p of bad) expect(() => s.project(acct, p as unknown as Projection<number>)).toThrow(InvalidArgumentError)
    expect(() => s.project(acct, count, { freshness: { maxStaleMs: -1 } })).toThrow(InvalidArgumentError)
    expect(() => s.project(acct, count, { asOf: { sequence: 1 as unknown as bigint } })).toThrow(InvalidArgumentError)
    expect(() => s.project(acct, count, { asOf: { sequence: 1n }, freshness: { maxStaleMs: 5 } })).toThrow(InvalidArgumentError)
    expect(() => s.projectMany(acct, [] as const)).toThrow(InvalidArgumentError)
    s.close()
  })
})

describe('projectMany', () => {
  it('folds several projections in one read, each from its own cached position', () => {
    const s = open()
    s.append(acct, Deposited, { amount: 4 })
    s.append(acct, Noted, { text: 'x' })
    const b = balance()
    s.project(acct, b)
    s.append(acct, Withdrawn, { amount: 1 })
    const spy = vi.spyOn(s, 'readFiltered')
    const [rb, rc] = s.projectMany(acct, [b, count])
    expect(spy).toHaveBeenCalledTimes(1)
    expect(rb).toEqual({ state: 3, position: 2n, eventsApplied: 1, cacheHit: true })
    expect(rc).toEqual({ state: 3, position: 2n, eventsApplied: 3, cacheHit: false })
    expect(b.calls).toBe(2)
    s.close()
  })
})

describe('projection cache', () => {
  it('drops the least recently used entry beyond MAX_CACHE_ENTRIES', () => {
    const s = open()
    const entry = { state: 0, position: null, scanned: null, at: 0 }
    for (let i = 0; i < MAX_CACHE_ENTRIES; i++) cachePut(s, cacheKey(`e${i}`, 'p', 1, undefined), entry)
    expect(cacheGet(s, cacheKey('e0', 'p', 1, undefined))).toBe(entry) // e0 is now the most recent
    cachePut(s, cacheKey('new', 'p', 1, undefined), entry)
    expect(cacheGet(s, cacheKey('e0', 'p', 1, undefined))).toBe(entry)
    expect(cacheGet(s, cacheKey('e1', 'p', 1, undefined))).toBeUndefined()
    s.close()
  })

  it('keeps caches of two stores apart', () => {
    const a = open()
    const b = open()
    a.append(acct, Deposited, { amount: 1 })
    b.append(acct, Deposited, { amount: 2 })
    expect(a.project(acct, balance()).state).toBe(1)
    expect(b.project(acct, balance())).toMatchObject({ state: 2, cacheHit: false })
    a.close()
    b.close()
  })
})

describe('watchProjection', () => {
  it('yields the state now and after each new event of the entity, skipping other entities', async () => {
    const { Coordinate: C, EventKind: EK, Store: S } = await import('../src/index.js')
    const { tempDir: td } = await import('./helpers.js')
    const store = S.open({ dataDir: td() })
    const K = EK.custom(1, 1)
    const acct = new C('acct:1', 'bank')
    store.append(acct, K, { amount: 10 })
    const balance = { name: 'balance', version: 1, init: () => 0, apply: (s: number, e: { payload: unknown }) => s + (e.payload as { amount: number }).amount }
    const seen: number[] = []
    const watching = (async () => {
      for await (const r of store.watchProjection('acct:1', balance)) {
        seen.push(r.state)
        if (seen.length === 3) break
      }
    })()
    await new Promise((r) => setTimeout(r, 20))
    store.append(new C('acct:2', 'bank'), K, { amount: 1000 }) // another entity: no update
    await new Promise((r) => setTimeout(r, 20))
    store.append(acct, K, { amount: 5 })
    await new Promise((r) => setTimeout(r, 20))
    store.append(acct, K, { amount: -3 })
    await watching
    expect(seen).toEqual([10, 15, 12])
    store.close()
  })
})
