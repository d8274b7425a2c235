// Windowed aggregations: revenue per 5-minute window and per order type,
// computed in the addon from the stored payloads; then the same windows
// live, each emitted once it closes.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Coordinate, Region, Store } from 'causeway'

const store = Store.open({ dataDir: process.env.CAUSEWAY_DATA ?? mkdtempSync(join(tmpdir(), 'causeway-aggregations-')) })
store.types.define('OrderPlaced')
store.types.define('OrderRefunded')
const t0 = Date.UTC(2026, 0, 1, 9, 0)
const min = 60_000

const live = store.aggregateLive(
  { query: Region.scope('shop'), window: { tumbling: '5m' }, time: 'event', measures: { orders: 'count', revenue: { sum: 'total.amount' } } },
  (w) => console.log(`closed ${new Date(w.startUs / 1000).toISOString().slice(11, 16)}: ${w.orders} orders, revenue ${w.revenue}`),
)

const orders = [
  [0, 'OrderPlaced', 120],
  [2, 'OrderPlaced', 80],
  [3, 'OrderRefunded', 80],
  [6, 'OrderPlaced', 400],
  [11, 'OrderPlaced', 'unknown'], // not a number: counted as an order, left out of the revenue
]
for (const [at, type, amount] of orders) {
  store.append(new Coordinate(`order:${at}`, 'shop'), type, { total: { amount, currency: 'EUR' } }, { occurredAt: t0 + at * min })
}

const windows = store.aggregate({
  query: Region.scope('shop'),
  window: { tumbling: '5m' },
  time: 'event',
  groupBy: 'type',
  measures: { orders: 'count', revenue: { sum: 'total.amount' }, basket: { avg: 'total.amount' }, largest: { max: 'total.amount' } },
})
for (const w of windows) {
  const start = new Date(w.startUs / 1000).toISOString().slice(11, 16)
  console.log(`${start} ${w.group}: ${w.orders} orders, revenue ${w.revenue}, basket ${w.basket}, largest ${w.largest}`)
}

await new Promise((r) => setTimeout(r, 100))
await live.close()
store.close()
