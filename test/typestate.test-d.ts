import { describe, expectTypeOf, it } from 'vitest'
import { Coordinate, defineStateMachine, EventKind, Store, type AppendReceipt, type Typed } from '../src/index.js'

const Order = defineStateMachine({
  name: 'order',
  states: ['draft', 'placed', 'shipped'],
  initial: 'draft',
  transitions: {
    place: { from: 'draft', to: 'placed', kind: EventKind.custom(1, 1) },
    ship: { from: 'placed', to: 'shipped', kind: EventKind.custom(1, 2) },
  },
})
const Invoice = defineStateMachine({
  name: 'invoice',
  states: ['draft', 'placed'],
  initial: 'draft',
  transitions: { place: { from: 'draft', to: 'placed', kind: EventKind.custom(2, 1) } },
})
declare const store: Store
const c = new Coordinate('order:1', 'shop')

describe('typestate handles', () => {
  it('tracks the state through transitions', () => {
    const draft = Order.start(c)
    expectTypeOf(draft).toEqualTypeOf<Typed<typeof Order, 'draft'>>()
    const placed = store.applyTransition(draft, Order.transitions.place, {})
    expectTypeOf(placed.handle).toEqualTypeOf<Typed<typeof Order, 'placed'>>()
    expectTypeOf(placed.receipt).toEqualTypeOf<AppendReceipt>()
    const shipped = store.applyTransition(placed.handle, Order.transitions.ship, {})
    expectTypeOf(shipped.handle.state).toEqualTypeOf<'shipped'>()
  })

  it('makes a transition out of another state a compile error', () => {
    const draft = Order.start(c)
    // @ts-expect-error ship leaves 'placed', the handle is in 'draft'
    store.applyTransition(draft, Order.transitions.ship, {})
    const { handle } = store.applyTransition(draft, Order.transitions.place, {})
    // @ts-expect-error place leaves 'draft', the handle is in 'placed'
    store.applyTransition(handle, Order.transitions.place, {})
  })

  it('makes a transition of another machine a compile error', () => {
    // @ts-expect-error Invoice.place is not a transition of Order
    store.applyTransition(Order.start(c), Invoice.transitions.place, {})
  })

  it('requires narrowing a loaded handle before a transition', () => {
    const h = store.loadTyped(Order, c)
    expectTypeOf(h.state).toEqualTypeOf<'draft' | 'placed' | 'shipped'>()
    // @ts-expect-error the handle may be in any state
    store.applyTransition(h, Order.transitions.ship, {})
    if (h.state === 'placed') {
      expectTypeOf(h).toEqualTypeOf<Typed<typeof Order, 'placed'>>()
      store.applyTransition(h, Order.transitions.ship, {})
    }
  })

  it('refuses an initial state or a transition end that is not a state', () => {
    // @ts-expect-error 'nope' is not one of the states
    defineStateMachine({ name: 'm', states: ['a', 'b'], initial: 'nope', transitions: {} })
    // @ts-expect-error 'z' is not one of the states
    defineStateMachine({ name: 'm', states: ['a', 'b'], initial: 'a', transitions: { t: { from: 'a', to: 'z', kind: EventKind.custom(1, 1) } } })
  })

  it('types each transition\'s ends as literals and tells handle states apart', () => {
    expectTypeOf<Typed<typeof Order, 'draft'>>().not.toEqualTypeOf<Typed<typeof Order, 'placed'>>()
    expectTypeOf(Order.transitions.ship.from).toEqualTypeOf<'placed'>()
    expectTypeOf(Order.transitions.ship.to).toEqualTypeOf<'shipped'>()
  })

  it('types named transitions as it types numeric ones, keeping the name as a literal', () => {
    const Named = defineStateMachine({
      name: 'named',
      states: ['draft', 'placed', 'shipped'],
      initial: 'draft',
      transitions: {
        place: { from: 'draft', to: 'placed', kind: 'order.placed' },
        ship: { from: 'placed', to: 'shipped', kind: EventKind.custom(1, 2) },
      },
    })
    expectTypeOf(Named.transitions.place.kind).toEqualTypeOf<'order.placed'>()
    expectTypeOf(Named.transitions.ship.kind).toEqualTypeOf<EventKind>()
    const placed = store.applyTransition(Named.start(c), Named.transitions.place, {})
    expectTypeOf(placed.handle).toEqualTypeOf<Typed<typeof Named, 'placed'>>()
    // @ts-expect-error ship leaves 'placed', the handle is in 'draft'
    store.applyTransition(Named.start(c), Named.transitions.ship, {})
    // @ts-expect-error a kind is an EventKind or a type name, not a number
    defineStateMachine({ name: 'm', states: ['a', 'b'], initial: 'a', transitions: { t: { from: 'a', to: 'b', kind: 4097 } } })
  })
})
