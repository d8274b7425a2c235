import { describe, expectTypeOf, it } from 'vitest'
import { Region, type EventPages, type Store, type StoredEvent } from '../src/index.js'

declare const store: Store

describe('paged reads', () => {
  it('keep an array without options and give EventPages with them', () => {
    expectTypeOf(store.query(Region.all())).toEqualTypeOf<StoredEvent<unknown>[]>()
    expectTypeOf(store.stream('order:1')).toEqualTypeOf<StoredEvent<unknown>[]>()
    expectTypeOf(store.query<{ n: number }>(Region.all(), { reverse: true, limit: 20 })).toEqualTypeOf<EventPages<{ n: number }>>()
    expectTypeOf(store.stream('order:1', { fromClock: 3 }).toArray()).toEqualTypeOf<StoredEvent<unknown>[]>()
    expectTypeOf(store.clockOf('order:1')).toEqualTypeOf<number>()
  })

  it('do not compile an option of the other method or a sequence as a number', () => {
    // @ts-expect-error after is a bigint (a global sequence)
    store.query(Region.all(), { after: 5 })
    // @ts-expect-error streams page by clock, not by sequence
    store.stream('order:1', { after: 5n })
    // @ts-expect-error pages are iterable, not an array
    void store.query(Region.all(), { limit: 1 }).length
  })
})
