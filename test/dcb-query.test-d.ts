import { describe, expectTypeOf, it } from 'vitest'
import { Query, Region, Store, type Projection } from '../src/index.js'

declare const store: Store
const count: Projection<number> = { name: 'count', version: 1, init: () => 0, apply: (n) => n + 1 }
const skus: Projection<string[], { sku: string }> = { name: 'skus', version: 1, init: () => [], apply: (s, e) => [...s, e.payload.sku] }
const q = Query.items({ types: ['order.placed'], tags: ['order:1'] })

describe('DCB query types', () => {
  it('types decide states by projection, as a record or a tuple, and its position as appendIf wants it', () => {
    const r = store.decide(q, { count, skus })
    expectTypeOf(r.states).toEqualTypeOf<{ count: number; skus: string[] }>()
    expectTypeOf(r.position).toEqualTypeOf<bigint | null>()
    const t = store.decide(Region.all().withTags('order:1'), [count, skus])
    expectTypeOf(t.states).toEqualTypeOf<[number, string[]]>()
    store.appendIf([], { failIfEventsMatch: q, after: r.position })
  })

  it('takes a Query wherever a Region is read', () => {
    expectTypeOf(store.query(q)).toBeArray()
    store.scan(q)
    store.cursor(q)
    store.subscribe(q)
    store.typed<{ 'order.placed': { sku: string } }>().query(q)
  })
})
