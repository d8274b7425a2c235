import { describe, expectTypeOf, it } from 'vitest'
import { Store, type Projection, type ProjectionResult } from '../src/index.js'

declare const store: Store
const count: Projection<number> = { name: 'count', version: 1, init: () => 0, apply: (n) => n + 1 }
const skus: Projection<string[], { sku: string }> = {
  name: 'skus',
  version: 1,
  init: () => [],
  apply: (s, e) => {
    expectTypeOf(e.payload).toEqualTypeOf<{ sku: string }>()
    return [...s, e.payload.sku]
  },
}

describe('projection types', () => {
  it('types the state and keeps positions bigint', () => {
    const r = store.project('order:1', skus)
    expectTypeOf(r).toEqualTypeOf<ProjectionResult<string[]>>()
    expectTypeOf(r.position).toEqualTypeOf<bigint | null>()
  })

  it('types projectMany results per projection, in order', () => {
    const [a, b] = store.projectMany('order:1', [count, skus])
    expectTypeOf(a.state).toEqualTypeOf<number>()
    expectTypeOf(b.state).toEqualTypeOf<string[]>()
  })

  it('refuses an apply that returns another state type, and a numeric asOf sequence', () => {
    // @ts-expect-error apply must return the state type
    store.project('order:1', { name: 'x', version: 1, init: () => 0, apply: () => 'no' } satisfies Projection<number>)
    // @ts-expect-error asOf.sequence is a bigint
    store.project('order:1', count, { asOf: { sequence: 3 } })
  })
})
