// Typestate machines whose transitions name event types instead of giving
// EventKinds: names resolved against the store the machine is used with.
// Real stores on disk, no mocks.
import { describe, expect, it } from 'vitest'
import {
  Coordinate,
  defineStateMachine,
  EventKind,
  InvalidArgumentError,
  InvalidPayloadError,
  InvalidTypeNameError,
  Store,
  UnknownTypeError,
} from '../src/index.js'
import { tempDir, thrown } from './helpers.js'

const Noted = EventKind.custom(2, 1)
const Cancelled = EventKind.custom(1, 3)

const Order = defineStateMachine({
  name: 'order',
  states: ['draft', 'placed', 'shipped', 'cancelled'],
  initial: 'draft',
  transitions: {
    place: { from: 'draft', to: 'placed', kind: 'order.placed' },
    ship: { from: 'placed', to: 'shipped', kind: 'order.shipped' },
    // A numeric kind beside names: the mix keeps working.
    cancel: { from: 'placed', to: 'cancelled', kind: Cancelled },
  },
})

const PlacedSchema = { type: 'object', required: ['sku'], properties: { sku: { type: 'string' } } }

function define(s: Store): void {
  s.types.define('order.placed', { schema: PlacedSchema })
  s.types.define('order.shipped')
}


const c = new Coordinate('order:1', 'shop')

describe('typestate with named transitions', () => {
  it('appends each named transition with its type, so the events read back with the name', () => {
    const s = Store.open({ dataDir: tempDir() })
    define(s)
    const placed = s.applyTransition(Order.start(c), Order.transitions.place, { sku: 'A' })
    const shipped = s.applyTransition(placed.handle, Order.transitions.ship, null)
    expect(shipped.handle).toMatchObject({ state: 'shipped', clock: 2 })
    expect(s.stream('order:1').map((e) => [e.type, e.kind.value])).toEqual([
      ['order.placed', s.types.kindOf('order.placed').value],
      ['order.shipped', s.types.kindOf('order.shipped').value],
    ])
    s.close()
  })

  it('reloads the state from the log in a fresh open, which has not defined the types itself', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir })
    define(s)
    const { handle } = s.applyTransition(Order.start(c), Order.transitions.place, { sku: 'A' })
    s.append(c, Noted, 'a note') // of no transition: stepped over
    s.applyTransition(Order.start(new Coordinate('order:2', 'shop')), Order.transitions.place, { sku: 'B' })
    expect(handle.clock).toBe(1)
    s.close()
    const again = Store.open({ dataDir: dir })
    expect(again.loadTyped(Order, c)).toMatchObject({ state: 'placed', clock: 2 })
    const h = again.loadTyped(Order, c)
    if (h.state !== 'placed') throw new Error('narrowing')
    // order.shipped has no schema: usable as the registry has it, without a define in this process.
    again.applyTransition(h, Order.transitions.ship, { carrier: 'post' })
    again.close()
    const third = Store.open({ dataDir: dir, readOnly: true })
    expect(third.loadTyped(Order, c)).toMatchObject({ state: 'shipped', clock: 3 })
    expect(third.loadTyped(Order, new Coordinate('order:2', 'shop'))).toMatchObject({ state: 'placed', clock: 1 })
    third.close()
  })

  it('replays a mix of named and numeric transitions', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir })
    define(s)
    const placed = s.applyTransition(Order.start(c), Order.transitions.place, { sku: 'A' })
    s.applyTransition(placed.handle, Order.transitions.cancel, null)
    expect(s.loadTyped(Order, c)).toMatchObject({ state: 'cancelled', clock: 2 })
    s.close()
    const again = Store.open({ dataDir: dir, readOnly: true })
    expect(again.loadTyped(Order, c)).toMatchObject({ state: 'cancelled', clock: 2 })
    again.close()
  })

  it('throws UnknownTypeError naming the transition when a name is not defined in the store, writing nothing', () => {
    const s = Store.open({ dataDir: tempDir() })
    s.types.define('order.placed', { schema: PlacedSchema }) // order.shipped left undefined
    const apply = thrown(() => s.applyTransition(Order.start(c), Order.transitions.place, { sku: 'A' }))
    expect(apply).toBeInstanceOf(UnknownTypeError)
    expect(apply).toMatchObject({ code: 'E_UNKNOWN_TYPE', type: 'order.shipped' })
    expect(apply.message).toMatch(/machine order: transition ship: no type named order\.shipped/)
    expect(() => s.loadTyped(Order, c)).toThrow(UnknownTypeError)
    expect(s.stats().events).toBe(1) // the registry entry only
    // Defined later, the machine works: a failed lookup is not remembered.
    s.types.define('order.shipped')
    expect(s.applyTransition(Order.start(c), Order.transitions.place, { sku: 'A' }).handle.state).toBe('placed')
    s.close()
  })

  it('validates a named transition\'s payload with the type\'s schema (InvalidPayloadError), writing nothing', () => {
    const s = Store.open({ dataDir: tempDir() })
    define(s)
    const e = thrown(() => s.applyTransition(Order.start(c), Order.transitions.place, { qty: 1 }))
    expect(e).toBeInstanceOf(InvalidPayloadError)
    expect(e.code).toBe('E_INVALID_PAYLOAD')
    expect(s.stream('order:1')).toHaveLength(0)
    s.close()
  })

  it('refuses, when used, a name and a numeric kind that are one kind leaving one state (a replay could not tell them apart)', () => {
    const s = Store.open({ dataDir: tempDir() })
    const kind = s.types.define('order.placed')
    const Twice = defineStateMachine({
      name: 'twice',
      states: ['a', 'b', 'c'],
      initial: 'a',
      transitions: { byName: { from: 'a', to: 'b', kind: 'order.placed' }, byKind: { from: 'a', to: 'c', kind } },
    })
    expect(() => s.loadTyped(Twice, c)).toThrow(InvalidArgumentError)
    expect(() => s.applyTransition(Twice.start(c), Twice.transitions.byName, null)).toThrow(/transitions byName and byKind both leave a with kind 0xf000/)
    expect(s.stream('order:1')).toHaveLength(0)
    s.close()
  })
})

describe('defineStateMachine with type names', () => {
  const def = (transitions: Record<string, unknown>) => () => defineStateMachine({ name: 'm', states: ['a', 'b'], initial: 'a', transitions } as never)

  it('refuses the same name twice out of one state, as it refuses a kind twice', () => {
    expect(def({ t: { from: 'a', to: 'b', kind: 'x.y' }, u: { from: 'a', to: 'a', kind: 'x.y' } })).toThrow(/two transitions leave a with kind x\.y/)
    expect(def({ t: { from: 'a', to: 'b', kind: 'x.y' }, u: { from: 'b', to: 'a', kind: 'x.y' } })).not.toThrow()
  })

  it('refuses an invalid type name with InvalidTypeNameError naming the transition', () => {
    const e = thrown(def({ t: { from: 'a', to: 'b', kind: 'has space' } }))
    expect(e).toBeInstanceOf(InvalidTypeNameError)
    expect(e.message).toMatch(/machine m: transition t: type name "has space"/)
    expect(def({ t: { from: 'a', to: 'b', kind: '' } })).toThrow(InvalidTypeNameError)
    expect(def({ t: { from: 'a', to: 'b', kind: 7 } })).toThrow(/non-reserved EventKind or a type name/)
  })

  it('keeps the name on the transition', () => {
    expect(Order.transitions.place.kind).toBe('order.placed')
    expect(Order.transitions.cancel.kind).toBe(Cancelled)
  })
})
