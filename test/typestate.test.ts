import { describe, expect, it } from 'vitest'
import {
  Coordinate,
  defineStateMachine,
  EventKind,
  InvalidArgumentError,
  SequenceMismatchError,
  Store,
  type Transition,
  type Typed,
} from '../src/index.js'
import { tempDir } from './helpers.js'

const Placed = EventKind.custom(1, 1)
const Shipped = EventKind.custom(1, 2)
const Cancelled = EventKind.custom(1, 3)
const Noted = EventKind.custom(2, 1)

const Order = defineStateMachine({
  name: 'order',
  states: ['draft', 'placed', 'shipped', 'cancelled'],
  initial: 'draft',
  transitions: {
    place: { from: 'draft', to: 'placed', kind: Placed },
    ship: { from: 'placed', to: 'shipped', kind: Shipped },
    cancelDraft: { from: 'draft', to: 'cancelled', kind: Cancelled },
    cancelPlaced: { from: 'placed', to: 'cancelled', kind: Cancelled },
  },
})

/** Bypasses the compile-time check, to reach the runtime one. */
const untyped = (t: unknown) => t as Transition<typeof Order, 'draft', 'placed'>

function open(): Store {
  return Store.open({ dataDir: tempDir() })
}

describe('applyTransition', () => {
  it('appends each transition event and hands back a handle in the new state', () => {
    const s = open()
    const c = new Coordinate('order:1', 'shop')
    const draft = Order.start(c)
    expect(draft).toMatchObject({ state: 'draft', clock: 0, coord: c, machine: Order })
    const placed = s.applyTransition(draft, Order.transitions.place, { sku: 'A' })
    expect(placed.handle).toMatchObject({ state: 'placed', clock: 1 })
    expect(placed.receipt.clock).toBe(1)
    const shipped = s.applyTransition(placed.handle, Order.transitions.ship, null, { durable: true })
    expect(shipped.receipt.durable).toBe(true)
    expect(s.stream('order:1').map((e) => e.kind.value)).toEqual([Placed.value, Shipped.value])
    s.close()
  })

  it('throws InvalidArgumentError when the handle is not in the transition\'s from state, writing nothing', () => {
    const s = open()
    const draft = Order.start(new Coordinate('order:1', 'shop'))
    expect(() => s.applyTransition(draft, untyped(Order.transitions.ship), null)).toThrow(/leaves placed, but order:1@shop is in draft/)
    expect(() => s.applyTransition(draft, untyped(Order.transitions.ship), null)).toThrow(InvalidArgumentError)
    expect(s.stats().events).toBe(0)
    s.close()
  })

  it('refuses a stale handle with SequenceMismatchError when the entity changed meanwhile', () => {
    const s = open()
    const c = new Coordinate('order:1', 'shop')
    const { handle } = s.applyTransition(Order.start(c), Order.transitions.place, null)
    s.append(c, Noted, 'someone else wrote')
    expect(() => s.applyTransition(handle, Order.transitions.ship, null)).toThrow(SequenceMismatchError)
    const again = s.applyTransition(Order.start(new Coordinate('order:2', 'shop')), Order.transitions.place, null)
    expect(() => s.applyTransition(Order.start(new Coordinate('order:2', 'shop')), Order.transitions.place, null)).toThrow(SequenceMismatchError)
    expect(again.receipt.clock).toBe(1)
    expect(s.stats().events).toBe(3)
    s.close()
  })

  it('refuses a handle the library did not make, and a transition of another machine', () => {
    const s = open()
    const c = new Coordinate('order:1', 'shop')
    const forged = { machine: Order, coord: c, state: 'draft', clock: 0 } as Typed<typeof Order, 'draft'>
    expect(() => s.applyTransition(forged, Order.transitions.place, null)).toThrow(/handle made by the library/)
    const Other = defineStateMachine({ name: 'order', states: ['draft', 'placed'], initial: 'draft', transitions: { place: { from: 'draft', to: 'placed', kind: Placed } } })
    expect(() => s.applyTransition(Order.start(c), untyped(Other.transitions.place), null)).toThrow(/another machine|does not belong/)
    expect(s.stats().events).toBe(0)
    s.close()
  })
})

describe('loadTyped', () => {
  it('replays the entity to its current state and clock, stepping over events of other kinds', () => {
    const s = open()
    const c = new Coordinate('order:1', 'shop')
    expect(s.loadTyped(Order, c)).toMatchObject({ state: 'draft', clock: 0 })
    s.applyTransition(Order.start(c), Order.transitions.place, null)
    s.append(c, Noted, 'a note')
    const h = s.loadTyped(Order, c)
    expect(h).toMatchObject({ state: 'placed', clock: 2 })
    if (h.state !== 'placed') throw new Error('narrowing')
    expect(s.applyTransition(h, Order.transitions.cancelPlaced, null).handle.state).toBe('cancelled')
    expect(s.loadTyped(Order, c)).toMatchObject({ state: 'cancelled', clock: 3 })
    s.close()
  })

  it('throws InvalidArgumentError naming an event that is no transition out of the replayed state', () => {
    const s = open()
    const c = new Coordinate('order:1', 'shop')
    const bad = s.append(c, Shipped, null) // shipped while still a draft, written around the machine
    expect(() => s.loadTyped(Order, c)).toThrow(new RegExp(`${bad.eventId}.*no transition out of draft`))
    s.close()
  })
})

describe('defineStateMachine', () => {
  it('refuses unknown states, an ambiguous (from, kind) pair and reserved kinds', () => {
    const def = (transitions: Record<string, unknown>, initial = 'a') => () =>
      defineStateMachine({ name: 'm', states: ['a', 'b'], initial, transitions } as never)
    expect(def({ t: { from: 'a', to: 'z', kind: Placed } })).toThrow(InvalidArgumentError)
    expect(def({}, 'z')).toThrow(/initial state z/)
    expect(def({ t: { from: 'a', to: 'b', kind: Placed }, u: { from: 'a', to: 'a', kind: Placed } })).toThrow(/two transitions leave a/)
    expect(def({ t: { from: 'a', to: 'b', kind: EventKind.fromValue(0x0001) } })).toThrow(/non-reserved/)
    expect(() => defineStateMachine({ name: 'm', states: ['a', 'a'], initial: 'a', transitions: {} })).toThrow(/distinct/)
  })

  it('freezes the machine and its transitions', () => {
    expect(Object.isFrozen(Order)).toBe(true)
    expect(Object.isFrozen(Order.transitions.place)).toBe(true)
    expect(Order.transitions.place).toMatchObject({ name: 'place', from: 'draft', to: 'placed', machine: Order })
  })
})
