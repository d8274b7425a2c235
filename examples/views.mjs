// Views: a read model across entities, kept in lmdb with its position, so
// a restart folds only the events it has not seen; an apply that throws
// stops the view at that event.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Coordinate, Query, Store } from 'causeway'

const dataDir = process.env.CAUSEWAY_DATA ?? mkdtempSync(join(tmpdir(), 'causeway-views-'))
const ordersByCustomer = {
  query: Query.of({ types: ['order.placed'] }),
  version: 1,
  key: (e) => e.payload.customer,
  init: () => ({ orders: 0, total: 0 }),
  apply: (s, e) => ({ orders: s.orders + 1, total: s.total + e.payload.total }),
}

let store = Store.open({ dataDir })
store.types.define('order.placed')
const place = (id, customer, total) => store.append(new Coordinate(`order:${id}`, 'shop'), 'order.placed', { customer, total })
place(1, 'ada', 30)
place(2, 'bob', 12)
place(3, 'ada', 5)

let view = store.view('orders-by-customer', ordersByCustomer)
console.log(`folded ${view.catchUp()} events; ada: ${JSON.stringify(view.get('ada'))}`)
store.close()

// After a restart the view resumes from its committed position.
store = Store.open({ dataDir })
place(4, 'bob', 8)
view = store.view('orders-by-customer', ordersByCustomer)
console.log(`lag ${view.lag} after the restart; folded ${view.catchUp()} new event; bob: ${JSON.stringify(view.get('bob'))}`)
console.log(`${view.size} customers: ${[...view].map(([k, s]) => `${k}=${s.total}`).join(', ')}`)

// An apply that throws: the view stops at that event and says which it is.
const strict = store.view('strict', {
  ...ordersByCustomer,
  apply: (s, e) => {
    if (e.payload.total < 10) throw new Error('total below 10')
    return ordersByCustomer.apply(s, e)
  },
})
try {
  strict.catchUp()
} catch (e) {
  console.log(`${e.code} at sequence ${e.globalSequence}; the view holds ${JSON.stringify(strict.get('ada'))} and waits at ${strict.position}`)
}
const { applied } = view.rebuild({ onProgress: (p) => console.log(`rebuild: ${p.applied} events, at ${p.position} of ${p.end}`) })
console.log(`rebuilt from scratch: ${applied} events`)
store.close()
