// An Emmett application on causeway: a shopping-cart command handler (Emmett's
// CommandHandler), a read model kept by Emmett's projector() through the
// causeway consumer, and an optimistic-concurrency conflict. Run it with
// `node examples/emmett/cart.mjs`; data goes to $CAUSEWAY_DATA or
// ./causeway-emmett-data, and a second run carries on where the first stopped.
import { CommandHandler, ExpectedVersionConflictError, IllegalStateError, projection } from '@event-driven-io/emmett'
import { causewayEventStoreConsumer, getCausewayEventStore } from 'causeway/emmett'

// The domain: events, state, evolve and decisions.
const initialState = () => ({ status: 'Empty', items: [] })
const evolve = (state, event) => {
  switch (event.type) {
    case 'ShoppingCartOpened':
      return { status: 'Opened', items: [] }
    case 'ProductItemAdded':
      return { ...state, items: [...state.items, event.data.productItem] }
    case 'ShoppingCartConfirmed':
      return { ...state, status: 'Confirmed' }
    default:
      return state
  }
}
const open = (cartId, state) => {
  if (state.status !== 'Empty') throw new IllegalStateError('cart already opened')
  return { type: 'ShoppingCartOpened', data: { cartId } }
}
const add = (cartId, productItem, state) => {
  if (state.status !== 'Opened') throw new IllegalStateError('cart is not open')
  return { type: 'ProductItemAdded', data: { cartId, productItem } }
}
const confirm = (cartId, state) => {
  if (state.status !== 'Opened') throw new IllegalStateError('cart is not open')
  return { type: 'ShoppingCartConfirmed', data: { cartId } }
}
const handle = CommandHandler({ evolve, initialState })

// The store: one line differs from an Emmett app on SQLite or PostgreSQL.
const eventStore = getCausewayEventStore({ dataDir: process.env.CAUSEWAY_DATA ?? './causeway-emmett-data' })

// The read model: revenue per confirmed cart, kept by a projector that resumes from its checkpoint.
const revenue = new Map()
const pending = new Map()
const consumer = causewayEventStoreConsumer({ eventStore })
consumer.projector({
  projection: projection({
    name: 'revenue',
    canHandle: ['ProductItemAdded', 'ShoppingCartConfirmed'],
    handle: async (events) => {
      for (const e of events) {
        const id = e.data.cartId
        if (e.type === 'ProductItemAdded') pending.set(id, (pending.get(id) ?? 0) + e.data.productItem.quantity * e.data.productItem.unitPrice)
        else revenue.set(id, pending.get(id) ?? 0)
      }
    },
  }),
})
const running = consumer.start()

// The commands of this run: a new cart each time, numbered after the existing ones.
const run = Number((await eventStore.readStream('runs')).currentStreamVersion) + 1
await eventStore.appendToStream('runs', [{ type: 'RunStarted', data: { run } }], { expectedStreamVersion: BigInt(run - 1) })
const cart = `shopping_cart-${run}`
await handle(eventStore, cart, (s) => open(cart, s))
await handle(eventStore, cart, (s) => add(cart, { productId: 'pen', quantity: 2, unitPrice: 5 }, s))
await handle(eventStore, cart, (s) => add(cart, { productId: 'ink', quantity: 1, unitPrice: 7 }, s))
const { nextExpectedStreamVersion } = await handle(eventStore, cart, (s) => confirm(cart, s))
console.log(`run ${run}: ${cart} confirmed at version ${nextExpectedStreamVersion}`)

// A command decided on a stale version is refused with Emmett's own error class.
try {
  await handle(eventStore, cart, (s) => add(cart, { productId: 'pad', quantity: 1, unitPrice: 1 }, { ...s, status: 'Opened' }), {
    expectedStreamVersion: 2n,
  })
} catch (e) {
  console.log(`stale command refused: ${e instanceof ExpectedVersionConflictError}`)
}

// Wait (bounded) for the projector to see this run's confirmation, then stop.
for (let i = 0; i < 400 && !revenue.has(cart); i++) await new Promise((r) => setTimeout(r, 5))
await consumer.stop()
await running
console.log(`revenue of ${cart}: ${revenue.get(cart)}`)
console.log(`carts projected this run: ${revenue.size}`)
await eventStore.close()
