// Delivery: a guaranteed cursor that resumes from its checkpoint, a lossy
// live subscription, and a reactor that turns orders into invoices.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Coordinate, EventKind, Region, Store } from 'causeway'

const dataDir = process.env.CAUSEWAY_DATA ?? mkdtempSync(join(tmpdir(), 'causeway-delivery-'))
const Placed = EventKind.custom(1, 1)
const Invoiced = EventKind.custom(3, 1)
let store = Store.open({ dataDir })
for (let i = 1; i <= 3; i++) store.append(new Coordinate(`order:${i}`, 'shop'), Placed, { total: i * 10 })

// 1. A cursor handles two events, commits, and the process "restarts".
let mailer = store.cursor(Region.entity('order'), { checkpoint: 'mailer' })
console.log(`mailer handled: ${mailer.pollBatch(2).map((e) => e.coordinate.entity).join(', ')}`)
mailer.commit()
store.close()
store = Store.open({ dataDir })
mailer = store.cursor(Region.entity('order'), { checkpoint: 'mailer' })
console.log(`after restart the mailer resumes with: ${mailer.pollBatch(10).map((e) => e.coordinate.entity).join(', ')}`)

// 2. A live subscription sees what is appended from now on.
const sub = store.subscribe(Region.all().withFact(Invoiced))
const invoices = []
sub.on('event', (e) => invoices.push(e.coordinate.entity))

// 3. A reactor: every order gets an invoice, caused by it, exactly once.
const loop = store.reactLoop(Region.entity('order'), (order) => [
  { coord: new Coordinate(order.coordinate.entity.replace('order', 'invoice'), 'billing'), kind: Invoiced, payload: { total: order.payload.total } },
])
await new Promise((r) => setTimeout(r, 100))
await loop.stop()
await new Promise((r) => setTimeout(r, 20))
const invoice = store.stream('invoice:2')[0]
console.log(`reactions: ${store.byFact(Invoiced).length} invoices; invoice:2 caused by ${store.get(invoice.causationId).coordinate.entity}`)
console.log(`subscriber saw ${invoices.length} invoices live`)
sub.close()
store.close()
