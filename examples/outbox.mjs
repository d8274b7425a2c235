// Outbox: stage events while handling a command, then commit them all as one
// atomic batch, or none of them.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Coordinate, EventKind, SequenceMismatchError, Store } from 'causeway'

const Placed = EventKind.custom(1, 1)
const Reserved = EventKind.custom(2, 1)
const store = Store.open({ dataDir: process.env.CAUSEWAY_DATA ?? mkdtempSync(join(tmpdir(), 'causeway-outbox-')) })
const run = store.stats().nextSequence
const order = new Coordinate(`order:${run}`, 'shop')

const box = store.outbox()
const placed = box.stage(order, Placed, { sku: 'A-1', qty: 2 }, { expectedSequence: 0 })
box.stage(new Coordinate('stock:A-1', 'warehouse'), Reserved, { order: order.entity, qty: 2 }, { causation: { priorItem: placed } })
console.log(`staged ${box.size} events, stored so far: ${store.stats().events - Number(run)}`)
const receipts = box.flush({ durable: true })
console.log(`flushed as one batch: sequences ${receipts.map((r) => r.globalSequence).join(', ')}`)

const retry = store.outbox()
retry.stage(new Coordinate('stock:A-1', 'warehouse'), Reserved, { order: order.entity, qty: 2 })
retry.stage(order, Placed, { sku: 'A-1', qty: 2 }, { expectedSequence: 0 }) // already placed
try {
  retry.flush()
} catch (e) {
  if (!(e instanceof SequenceMismatchError)) throw e
  retry.discard()
  console.log(`refused batch wrote nothing: ${store.stats().events - Number(run)} events`)
}
store.close()
