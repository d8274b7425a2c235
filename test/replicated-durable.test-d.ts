// durable: 'replicated' turns an append into a Promise of its receipt(s);
// every other durable value keeps the synchronous receipt.
import { describe, expectTypeOf, it } from 'vitest'
import { type AppendReceipt, Coordinate, EventKind, Region, type Store } from '../src/index.js'

declare const store: Store
const c = new Coordinate('a', 's')
const K = EventKind.custom(1, 1)
const items = [{ coord: c, kind: K, payload: {} }]
const condition = { failIfEventsMatch: Region.entity('a'), after: null }

describe("durable: 'replicated' overloads", () => {
  it('append', () => {
    expectTypeOf(store.append(c, K, {}, { durable: 'replicated' })).toEqualTypeOf<Promise<AppendReceipt>>()
    expectTypeOf(store.append(c, K, {}, { durable: 'replicated', idempotencyKey: 'k' })).toEqualTypeOf<Promise<AppendReceipt>>()
    expectTypeOf(store.append(c, K, {}, { durable: true })).toEqualTypeOf<AppendReceipt>()
    expectTypeOf(store.append(c, K, {}, { durable: false })).toEqualTypeOf<AppendReceipt>()
    expectTypeOf(store.append(c, K, {})).toEqualTypeOf<AppendReceipt>()
    expectTypeOf(store.append(c, 'order.placed', {}, { tags: ['t:1'] })).toEqualTypeOf<AppendReceipt>()
  })

  it('appendBatch and appendIf', () => {
    expectTypeOf(store.appendBatch(items, { durable: 'replicated' })).toEqualTypeOf<Promise<AppendReceipt[]>>()
    expectTypeOf(store.appendBatch(items, { durable: true })).toEqualTypeOf<AppendReceipt[]>()
    expectTypeOf(store.appendBatch(items)).toEqualTypeOf<AppendReceipt[]>()
    expectTypeOf(store.appendIf(items, condition, { durable: 'replicated' })).toEqualTypeOf<Promise<AppendReceipt[]>>()
    expectTypeOf(store.appendIf(items, condition, { durable: false })).toEqualTypeOf<AppendReceipt[]>()
    expectTypeOf(store.appendIf(items, condition)).toEqualTypeOf<AppendReceipt[]>()
  })

  it('refuses other strings', () => {
    // @ts-expect-error durable is a boolean or 'replicated'
    store.append(c, K, {}, { durable: 'sync' })
    // @ts-expect-error durable is a boolean or 'replicated'
    store.appendBatch(items, { durable: 'yes' })
  })
})
