// store.aggregate over more rows than one native chunk (262,144): a
// filtered walk resumes after each chunk without losing or repeating a row.
// Heavy for the default suite: runs with CAUSEWAY_AGGREGATE_LARGE=1 (test:full).
import { describe, expect, it } from 'vitest'
import { type AggregateSpec, Coordinate, EventKind, Query, Region, Store } from '../src/index.js'
import { foldOverScan } from './aggregate-fold.js'
import { tempDir } from './helpers.js'

describe.skipIf(!process.env.CAUSEWAY_AGGREGATE_LARGE)('store.aggregate over several chunks', () => {
  it('a filtered aggregation over 600,000 events equals the JS fold over scan(), with no row lost or repeated between chunks', () => {
    const s = Store.open({ dataDir: tempDir('agg-large'), sync: { mode: 'none' } })
    try {
      const k = EventKind.custom(1, 1)
      const coords = [new Coordinate('a:1', 'a'), new Coordinate('b:1', 'b')]
      for (let b = 0; b < 600_000; b += 10_000) {
        s.appendBatch(Array.from({ length: 10_000 }, (_, j) => ({ coord: coords[(b + j) % 2]!, kind: k, payload: { v: (b + j) % 13 } })))
      }
      for (const query of [Region.scope('a'), Query.all(), undefined]) {
        const spec: AggregateSpec = { query, window: { tumbling: 5 }, measures: { n: 'count', v: { sum: 'v' } } }
        const got = s.aggregate(spec)
        expect(got.reduce((a, w) => a + (w.n as number), 0)).toBe(query instanceof Region ? 300_000 : 600_000)
        expect(got).toEqual(foldOverScan(s, spec))
      }
    } finally {
      s.close()
    }
  }, 120_000)
})
