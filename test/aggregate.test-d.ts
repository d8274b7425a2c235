// The types store.aggregate gives back: each measure's value typed by its
// kind (count and sum a number, avg/min/max a number or null).
import { describe, expectTypeOf, it } from 'vitest'
import type { AggregateLive, AggregateWindow, Store } from '../src/index.js'

declare const store: Store

describe('aggregate types', () => {
  it('types each measure by its kind, and the window fields', () => {
    const [w] = store.aggregate({ window: { tumbling: '1m' }, measures: { n: 'count', total: { sum: 'a.b' }, mean: { avg: 'a' }, low: { min: 'a' } } })
    expectTypeOf(w!.n).toEqualTypeOf<number>()
    expectTypeOf(w!.total).toEqualTypeOf<number>()
    expectTypeOf(w!.mean).toEqualTypeOf<number | null>()
    expectTypeOf(w!.low).toEqualTypeOf<number | null>()
    expectTypeOf(w!.startUs).toEqualTypeOf<number>()
    expectTypeOf(w!.group).toEqualTypeOf<string | undefined>()
    // @ts-expect-error: no such measure
    void w!.missing
  })

  it('refuses an unknown measure, window shape or groupBy at compile time', () => {
    // @ts-expect-error: 'median' is not a measure
    store.aggregate({ window: { tumbling: 5 }, measures: { m: 'median' } })
    // @ts-expect-error: a sliding window needs a step
    store.aggregate({ window: { sliding: 5 }, measures: { n: 'count' } })
    // @ts-expect-error: no such groupBy
    store.aggregate({ window: { tumbling: 5 }, groupBy: 'colour', measures: { n: 'count' } })
  })

  it('aggregateLive hands typed windows to its callback', () => {
    const live = store.aggregateLive({ window: { tumbling: '1m' }, measures: { n: 'count' } }, (w) => {
      expectTypeOf(w.n).toEqualTypeOf<number>()
    })
    expectTypeOf(live).toEqualTypeOf<AggregateLive>()
    expectTypeOf<AggregateWindow>().toHaveProperty('events')
  })
})
