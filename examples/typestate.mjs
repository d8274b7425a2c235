// Typestate: an order's lifecycle as a state machine whose transitions are
// events. In TypeScript a transition out of the wrong state does not compile;
// here in plain JavaScript the runtime check refuses it. A transition's kind
// is an EventKind or a type name, looked up in the store the machine is used with.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Coordinate, EventKind, InvalidArgumentError, SequenceMismatchError, Store, defineStateMachine } from 'causeway'

const Order = defineStateMachine({
  name: 'order',
  states: ['draft', 'placed', 'shipped'],
  initial: 'draft',
  transitions: {
    place: { from: 'draft', to: 'placed', kind: 'order.placed' },
    ship: { from: 'placed', to: 'shipped', kind: EventKind.custom(1, 2) },
  },
})
const Noted = EventKind.custom(2, 1)

const store = Store.open({ dataDir: process.env.CAUSEWAY_DATA ?? mkdtempSync(join(tmpdir(), 'causeway-typestate-')) })
const order = new Coordinate(`order:${store.stats().nextSequence}`, 'shop')
// The name's schema validates every place transition's payload.
store.types.define('order.placed', { schema: { type: 'object', required: ['sku'] } })

const draft = Order.start(order)
const placed = store.applyTransition(draft, Order.transitions.place, { sku: 'A-1' })
console.log(`${order} is ${placed.handle.state} at clock ${placed.handle.clock}`)

try {
  store.applyTransition(draft, Order.transitions.ship, {}) // a draft cannot ship
} catch (e) {
  if (!(e instanceof InvalidArgumentError)) throw e
  console.log(`refused: ${e.message}`)
}

store.append(order, Noted, { text: 'gift wrap' }) // someone else touches the order
try {
  store.applyTransition(placed.handle, Order.transitions.ship, {})
} catch (e) {
  if (!(e instanceof SequenceMismatchError)) throw e
  console.log(`stale handle refused: expected clock ${e.expected}, order is at ${e.actual}`)
}

const current = store.loadTyped(Order, order) // replay to a fresh handle
if (current.state === 'placed') {
  const shipped = store.applyTransition(current, Order.transitions.ship, { carrier: 'post' })
  console.log(`${order} is ${shipped.handle.state} at clock ${shipped.handle.clock}`)
}
store.close()
