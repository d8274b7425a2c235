// store.aggregate: native windowed aggregation, checked against a JS fold
// over scan() on seeded random stores, plus the refusals of bad specs.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { type AggregateSpec, Coordinate, EventKind, isCausewayError, Query, Region, Store } from '../src/index.js'
import { foldOverScan } from './aggregate-fold.js'
import { dirDigest, tempDir } from './helpers.js'

const Y2020 = Date.UTC(2020, 0, 1)

function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A store of `n` seeded random events: several types, scopes, entities, tags, payload shapes and event times. */
function randomStore(seed: number, n: number): Store {
  const s = Store.open({ dataDir: tempDir('agg') })
  const r = rng(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!
  const types = [s.types.define('Placed'), s.types.define('Paid'), EventKind.custom(3, 7)]
  const amount = (): unknown =>
    pick([() => Math.floor(r() * 1000) - 200, () => r() * 100, () => 2 ** 40 + Math.floor(r() * 10), () => 'x', () => null, () => true, () => [1, 2], () => undefined])()
  for (let i = 0; i < n; i++) {
    const payload: Record<string, unknown> = { note: pick(['', 'a', 'long text '.repeat(5)]), list: [1, { amount: 5 }] }
    const a = amount()
    if (a !== undefined) payload.amount = a
    if (r() < 0.7) payload.nested = { deep: { v: Math.floor(r() * 50) }, other: 1 }
    else if (r() < 0.5) payload.nested = 3
    const coord = new Coordinate(pick(['order:1', 'order:2', 'user:7', 'cart', 'user:8:x']), pick(['eu', 'us']))
    const tags = ['region:eu', 'region:us', 'vip'].filter(() => r() < 0.4)
    s.append(coord, pick(types), payload, { ...(r() < 0.8 ? { occurredAt: Y2020 + Math.floor(r() * 3600_000) } : {}), tags })
  }
  return s
}

const MEASURES = {
  n: 'count',
  total: { sum: 'amount' },
  mean: { avg: 'amount' },
  low: { min: 'amount' },
  high: { max: 'nested.deep.v' },
  deepSum: { sum: 'nested.deep.v' },
} as const

describe('store.aggregate', () => {
  it('every measure, window and groupBy equals the JS fold over scan() on random stores', () => {
    for (const seed of [1, 2, 3]) {
      const s = randomStore(seed, 300)
      try {
        const windows = [{ tumbling: '5m' }, { sliding: '10m', step: '2m' }, { tumbling: 0.2 }, { sliding: 0.5, step: 0.1 }] as const
        const groups = [undefined, 'type', 'scope', 'entityPrefix', { tag: 'region:' }] as const
        for (const window of windows) {
          for (const groupBy of groups) {
            for (const time of ['record', 'event'] as const) {
              const spec: AggregateSpec = { window, groupBy, time, measures: MEASURES }
              const got = s.aggregate(spec)
              expect(got.length).toBeGreaterThan(0)
              expect(got, `seed ${seed} ${JSON.stringify({ window, groupBy, time })}`).toEqual(foldOverScan(s, spec))
            }
          }
        }
      } finally {
        s.close()
      }
    }
  })

  it('a query narrows the events aggregated exactly as scan() of that query does', () => {
    const s = randomStore(9, 300)
    try {
      for (const query of [Region.entity('order'), Region.scope('eu').withFact('Paid'), Region.all().withTags('vip'), Query.of({ types: ['Placed'], tags: ['region:eu'] })]) {
        const spec: AggregateSpec = { query, window: { tumbling: '10m' }, time: 'event', groupBy: 'type', measures: MEASURES }
        expect(s.aggregate(spec)).toEqual(foldOverScan(s, spec))
      }
      expect(s.aggregate({ query: Region.entity('nobody'), window: { tumbling: 1000 }, measures: { n: 'count' } })).toEqual([])
    } finally {
      s.close()
    }
  })

  it('event time and record time put the same events in different windows', () => {
    const s = Store.open({ dataDir: tempDir('agg-time') })
    try {
      const at = new Coordinate('sensor:1', 'plant')
      s.append(at, EventKind.custom(1, 1), { v: 1 }, { occurredAt: Y2020 })
      s.append(at, EventKind.custom(1, 1), { v: 2 }, { occurredAt: Y2020 + 61_000 })
      const byEvent = s.aggregate({ window: { tumbling: '1m' }, time: 'event', measures: { v: { sum: 'v' } } })
      expect(byEvent.map((w) => [w.startUs, w.v])).toEqual([
        [Y2020 * 1000, 1],
        [(Y2020 + 60_000) * 1000, 2],
      ])
      const byRecord = s.aggregate({ window: { tumbling: '1h' }, measures: { v: { sum: 'v' }, n: 'count' } })
      expect(byRecord.reduce((a, w) => a + w.n, 0)).toBe(2)
      expect(byRecord[0]!.startUs).toBeGreaterThan(Y2020 * 1000 + 86400e6)
    } finally {
      s.close()
    }
  })

  it('a missing field, a non-number or a non-map on the path is not counted; sum is 0 and avg/min/max null then', () => {
    const s = Store.open({ dataDir: tempDir('agg-fields') })
    try {
      const at = new Coordinate('e', 's')
      const k = EventKind.custom(1, 1)
      for (const p of [{ a: 'text' }, { a: null }, { a: [3] }, { b: 1 }, 'scalar', { a: { b: 2 } }, { a: true }]) s.append(at, k, p)
      const [w] = s.aggregate({ window: { tumbling: '1d' }, measures: { n: 'count', sum: { sum: 'a' }, avg: { avg: 'a' }, min: { min: 'a' }, max: { max: 'a' }, ab: { sum: 'a.b' } } })
      expect(w).toMatchObject({ events: 7, n: 7, sum: 0, avg: null, min: null, max: null, ab: 2 })
    } finally {
      s.close()
    }
  })

  it('fields past a 16-key map, under long keys and of every integer and float width read as the decoder reads them', () => {
    const s = Store.open({ dataDir: tempDir('agg-widths') })
    try {
      const at = new Coordinate('e', 's')
      const k = EventKind.custom(1, 1)
      const wide = (v: unknown): Record<string, unknown> => {
        const o: Record<string, unknown> = {}
        for (let i = 0; i < 20; i++) o[`k${i}`] = i % 2 ? 'pad' : { x: i }
        o['a key well over thirty-one bytes long, str8'] = v
        o.inner = { ...Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`n${i}`, [i]])), v }
        return o
      }
      for (const v of [-100, -30_000, -2e9, 200, 60_000, 4e9, 1.5, -0.25, 2 ** 53 - 1, -(2 ** 40), 1e300]) s.append(at, k, wide(v))
      const spec: AggregateSpec = {
        window: { tumbling: '1d' },
        measures: { a: { sum: 'a key well over thirty-one bytes long, str8' }, lo: { min: 'inner.v' }, hi: { max: 'inner.v' }, m: { avg: 'inner.v' } },
      }
      const got = s.aggregate(spec)
      expect(got).toEqual(foldOverScan(s, spec))
      expect(got.reduce((a, w) => a + w.events, 0)).toBe(11)
    } finally {
      s.close()
    }
  })

  it('a frame damaged on disk fails a payload aggregation with E_CORRUPTION instead of being counted', () => {
    const dir = tempDir('agg-damage')
    const s = Store.open({ dataDir: dir })
    try {
      const at = new Coordinate('e', 's')
      for (const v of [1, 2, 3]) s.append(at, EventKind.custom(1, 1), { marker: `needle-${v}`, v })
      s.sync()
      const seg = fs.readdirSync(dir).find((n) => n.endsWith('.cwseg'))!
      const fd = fs.openSync(path.join(dir, seg), 'r+')
      const bytes = fs.readFileSync(path.join(dir, seg))
      const off = bytes.indexOf(Buffer.from('needle-2'))
      expect(off).toBeGreaterThan(0)
      fs.writeSync(fd, Buffer.from('N'), 0, 1, off) // the mapping shares these pages
      fs.closeSync(fd)
      expect(() => s.aggregate({ window: { tumbling: '1d' }, measures: { v: { sum: 'v' } } })).toThrow(expect.objectContaining({ code: 'E_CORRUPTION' }))
      // Record time and count read only the index columns: no frame, no check to fail.
      expect(s.aggregate({ window: { tumbling: '1d' }, measures: { n: 'count' } })[0]).toMatchObject({ n: 3 })
    } finally {
      s.close()
    }
  })

  it('bad specs are refused with stable codes before anything is read, and the store is untouched', () => {
    const dir = tempDir('agg-bad')
    const s = Store.open({ dataDir: dir })
    try {
      s.append(new Coordinate('e', 's'), EventKind.custom(1, 1), { a: 1 })
      s.sync()
      const before = dirDigest(dir)
      const cases: [unknown, string][] = [
        [{ window: { tumbling: 0 }, measures: { n: 'count' } }, 'E_INVALID_WINDOW'],
        [{ window: { tumbling: -5 }, measures: { n: 'count' } }, 'E_INVALID_WINDOW'],
        [{ window: { tumbling: '0s' }, measures: { n: 'count' } }, 'E_INVALID_WINDOW'],
        [{ window: { tumbling: '5 parsecs' }, measures: { n: 'count' } }, 'E_INVALID_WINDOW'],
        [{ window: { sliding: '1m', step: '2m' }, measures: { n: 'count' } }, 'E_INVALID_WINDOW'],
        [{ window: { sliding: '1m' }, measures: { n: 'count' } }, 'E_INVALID_WINDOW'],
        [{ window: { tumbling: '1m' }, measures: { n: 'median' } }, 'E_UNKNOWN_MEASURE'],
        [{ window: { tumbling: '1m' }, measures: { n: { p99: 'a' } } }, 'E_UNKNOWN_MEASURE'],
        [{ window: { tumbling: '1m' }, measures: {} }, 'E_UNKNOWN_MEASURE'],
        [{ window: { tumbling: '1m' }, measures: { s: { sum: 'a..b' } } }, 'E_INVALID_FIELD_PATH'],
        [{ window: { tumbling: '1m' }, measures: { s: { sum: '' } } }, 'E_INVALID_FIELD_PATH'],
        [{ window: { tumbling: '1m' }, measures: { s: { sum: 42 } } }, 'E_INVALID_FIELD_PATH'],
        [{ window: { tumbling: '1m' }, groupBy: 'colour', measures: { n: 'count' } }, 'E_UNKNOWN_GROUP_BY'],
        [{ window: { tumbling: '1m' }, groupBy: { tag: 1 }, measures: { n: 'count' } }, 'E_UNKNOWN_GROUP_BY'],
        [{ window: { tumbling: '1m' }, time: 'wall', measures: { n: 'count' } }, 'E_INVALID_ARGUMENT'],
        [{ window: { tumbling: '1m' }, measures: { events: 'count' } }, 'E_INVALID_ARGUMENT'],
      ]
      for (const [spec, code] of cases) {
        let err: unknown
        try {
          s.aggregate(spec as AggregateSpec)
        } catch (e) {
          err = e
        }
        expect(isCausewayError(err, code as never), `${JSON.stringify(spec)} -> ${String(err)}`).toBe(true)
      }
      expect(s.stats().events).toBe(1)
      expect(dirDigest(dir)).toEqual(before)
    } finally {
      s.close()
    }
  })
})
