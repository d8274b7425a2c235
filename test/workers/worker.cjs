// One worker of test/workers/driver.cjs: load the addon, open its own
// directory, append until terminated. Workers 0 and 1 append in a tight
// synchronous loop (terminate interrupts JavaScript or lands while a native
// call runs); workers 2 and 3 append from timers (terminate lands while the
// event loop is idle). Some appends are durable (a native call that blocks in
// fdatasync) and some are batches.
'use strict'
const { parentPort, workerData } = require('node:worker_threads')
const { Store, Coordinate, EventKind } = require(workerData.entry)
const store = Store.open({ dataDir: workerData.dir, sync: { everyMs: 1 } })
const c = new Coordinate('worker:' + workerData.i, 'test')
const k = EventKind.custom(1, 1)
let n = store.stream(c.entity).length
const start = n
parentPort.postMessage({ opened: n })
function one() {
  if (n % 50 === 7) {
    store.appendBatch([0, 1, 2].map((j) => ({ coord: c, kind: k, payload: { n: n + j } })))
    n += 3
  } else {
    store.append(c, k, { n, pad: 'x'.repeat(64) }, { durable: n % 100 === 0 })
    n += 1
  }
  if (n - start >= 300 && (n - start) % 25 < 3) parentPort.postMessage({ n })
}
if (workerData.i < 2) {
  for (;;) one()
} else {
  setInterval(() => { for (let j = 0; j < 20; j++) one() }, 0)
}
