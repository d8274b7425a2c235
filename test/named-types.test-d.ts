import { describe, expectTypeOf, it } from 'vitest'
import { Coordinate, EventKind, Region, type AppendReceipt, type Store } from '../src/index.js'

type Shop = {
  'order.placed': { sku: string; qty: number }
  'order.shipped': { carrier: string }
}

declare const store: Store
const shop = store.typed<Shop>()
const order = new Coordinate('order:1', 'shop')

describe('typed stores', () => {
  it('appends the payload of the type name', () => {
    expectTypeOf(shop.append(order, 'order.placed', { sku: 'A', qty: 1 })).toEqualTypeOf<AppendReceipt>()
    shop.append(order, EventKind.custom(1, 1), 'numeric kinds take any payload')
    shop.appendBatch([
      { coord: order, kind: 'order.placed', payload: { sku: 'A', qty: 1 } },
      { coord: order, kind: 'order.shipped', payload: { carrier: 'dhl' }, idempotencyKey: 'k' },
    ])
  })

  it('does not compile a wrong payload, a missing field or an unknown name', () => {
    // @ts-expect-error qty is a number
    shop.append(order, 'order.placed', { sku: 'A', qty: '1' })
    // @ts-expect-error qty is missing
    shop.append(order, 'order.placed', { sku: 'A' })
    // @ts-expect-error the payload of order.shipped, not order.placed
    shop.append(order, 'order.placed', { carrier: 'dhl' })
    // @ts-expect-error no such type in the map
    shop.append(order, 'order.cancelled', {})
    // @ts-expect-error a batch item's payload is checked against its kind
    shop.appendBatch([{ coord: order, kind: 'order.shipped', payload: { sku: 'A', qty: 1 } }])
    shop.appendIf(
      // @ts-expect-error appendIf items too
      [{ coord: order, kind: 'order.placed', payload: { qty: 1 } }],
      { failIfEventsMatch: Region.entity('order').withFact('order.placed'), after: null },
    )
  })

  it('narrows payloads on event.type when reading', () => {
    for (const e of shop.query(Region.entity('order'))) {
      if (e.type === 'order.placed') expectTypeOf(e.payload).toEqualTypeOf<{ sku: string; qty: number }>()
      else if (e.type === 'order.shipped') expectTypeOf(e.payload).toEqualTypeOf<{ carrier: string }>()
      else expectTypeOf(e.payload).toEqualTypeOf<unknown>()
    }
    expectTypeOf(shop.byFact('order.shipped')[0]!.payload.carrier).toEqualTypeOf<string>()
    // Paged reads narrow the same way.
    for (const p of shop.stream('order:1', { reverse: true, limit: 20 })) {
      if (p.type === 'order.placed') expectTypeOf(p.payload.qty).toEqualTypeOf<number>()
    }
    const latest = shop.query(Region.entity('order'), { reverse: true, limit: 5 }).toArray()
    if (latest[0]?.type === 'order.shipped') expectTypeOf(latest[0].payload).toEqualTypeOf<{ carrier: string }>()
    const e = shop.get('01890a5d-ac96-774b-bcce-b302099a8057')
    // @ts-expect-error not narrowed: the event may be of any type
    void e?.payload.sku
  })

  it('leaves the untyped store taking any name and payload', () => {
    store.append(order, 'anything', { any: 'payload' })
    expectTypeOf(store.types.define('order.placed')).toEqualTypeOf<EventKind>()
  })
})

describe('typed upcasting', () => {
  it('takes the names of the map and a step typed by its old shape', () => {
    shop.types.upcast('order.placed', 1, 2, (p: { sku: string; quantity: number }, e) => {
      expectTypeOf(e.storedVersion).toEqualTypeOf<number>()
      return { sku: p.sku, qty: p.quantity }
    })
    // @ts-expect-error no such type in the map
    shop.types.upcast('order.refunded', 1, 2, (p) => p)
    // The event given to a step has no payload: the step's argument is the payload.
    // @ts-expect-error payload is not on the event a step gets
    store.types.upcast('order.placed', 1, 2, (_p, e) => e.payload)
    store.types.upcast('any.name', 1, 2, (p) => p) // an untyped store takes any name
    expectTypeOf(shop.types.kindOf('order.placed')).toEqualTypeOf<EventKind>()
  })
})
