// A small order service on an embedded causeway store in ./causeway-data.
// Run it with `npm start`; run it again and it carries on where it stopped.
import { Coordinate, InvalidPayloadError, Region, SequenceMismatchError, Store } from 'causeway'

const store = Store.open({ dataDir: process.env.CAUSEWAY_DATA ?? './causeway-data' })
const run = Number(store.stats().nextSequence)

// 0. Named event types, recorded in the store's type registry (the same kinds on every run).
//    A schema (JSON Schema here, checked by ajv; or zod, valibot...) checks every append.
const OrderPlaced = 'order.placed'
const ItemAdded = 'order.item-added'
const OrderShipped = 'order.shipped'
const StockReserved = 'stock.reserved'
store.types.define(OrderPlaced, { schema: { type: 'object', required: ['customer'], properties: { customer: { type: 'string' } } } })
store.types.define(ItemAdded)
store.types.define(OrderShipped)
store.types.define(StockReserved)

// 1. A command handler: place an order, exactly once per command id.
function placeOrder(commandId, orderId, customer) {
  const order = new Coordinate(`order:${orderId}`, 'shop')
  return store.append(order, OrderPlaced, { customer }, { idempotencyKey: commandId, expectedSequence: 0 })
}

// 2. Add items and reserve stock in one atomic batch, the reservation caused by the item.
function addItem(orderId, sku, qty) {
  const order = new Coordinate(`order:${orderId}`, 'shop')
  const stock = new Coordinate(`stock:${sku}`, 'warehouse')
  return store.appendBatch([
    { coord: order, kind: ItemAdded, payload: { sku, qty } },
    { coord: stock, kind: StockReserved, payload: { orderId, qty }, causation: { priorItem: 0 } },
  ])
}

// 3. Ship with optimistic concurrency: only if nobody changed the order since we read it.
function ship(orderId) {
  const events = store.stream(`order:${orderId}`)
  const state = events.reduce((s, e) => (e.type === OrderShipped ? { ...s, shipped: true } : s), { shipped: false })
  if (state.shipped) return null
  return store.append(new Coordinate(`order:${orderId}`, 'shop'), OrderShipped, { at: new Date() }, {
    expectedSequence: events.length,
    durable: true, // acknowledged only after fdatasync
  })
}

const orderId = `${run}`
const placed = placeOrder(`cmd-place-${run}`, orderId, 'ada@example.com')
const retried = placeOrder(`cmd-place-${run}`, orderId, 'ada@example.com') // a retried command writes nothing
console.log(`placed order ${orderId}: event ${placed.eventId} at sequence ${placed.globalSequence}`)
console.log(`retry deduplicated: ${retried.deduplicated}, same event: ${retried.eventId === placed.eventId}`)

try {
  placeOrder(`cmd-bad-${run}`, `${orderId}-bad`, 42)
} catch (e) {
  if (e instanceof InvalidPayloadError) console.log(`invalid payload refused: ${e.path} ${e.reason}`)
  else throw e
}

const [item, reservation] = addItem(orderId, 'A-1', 2)
console.log(`item at clock ${item.clock}, reservation caused by it: ${store.get(reservation.eventId).causationId === item.eventId}`)

try {
  store.append(new Coordinate(`order:${orderId}`, 'shop'), OrderShipped, {}, { expectedSequence: 0 })
} catch (e) {
  if (e instanceof SequenceMismatchError) console.log(`stale write refused: expected clock ${e.expected}, order is at ${e.actual}`)
  else throw e
}
const shipped = ship(orderId)
console.log(`shipped durably: ${shipped.durable}; chain link ok: ${shipped.prevHash === item.contentHash}`)

const orders = store.query(Region.entity('order').withFact(OrderPlaced))
const reserved = store.query(Region.scope('warehouse')).reduce((n, e) => n + e.payload.qty, 0)
const st = store.stats()
console.log(`types: ${store.stream(`order:${orderId}`).map((e) => e.type).join(', ')}`)
console.log(`${orders.length} orders so far, ${reserved} items reserved, ${st.events} events in ${st.segments} segment(s)`)
store.close()
