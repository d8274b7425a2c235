// One process of the several-processes bench: opens the store (the writer
// role if nobody holds it, else a client), waits for "go" on stdin, appends
// `n` events (singles, or batches of `batch`), prints the elapsed ms.
const { Store, Coordinate, EventKind } = require('../../dist/cjs/index.js')
const [dir, mode, n, batch, tag] = process.argv.slice(2)
const store = Store.open({ dataDir: dir })
const K = EventKind.custom(1, 1)
const coord = new Coordinate(`bench:${tag}`, 's')
process.stdout.write(`ready ${store.stats().role}\n`)
process.stdin.once('data', () => {
  const t0 = performance.now()
  const b = Number(batch)
  for (let i = 0; i < Number(n); i += b) {
    if (b === 1) store.append(coord, K, { i }, { durable: mode === 'durable' })
    else store.appendBatch(Array.from({ length: b }, (_, j) => ({ coord, kind: K, payload: { i: i + j } })), { durable: mode === 'durable' })
  }
  process.stdout.write(`done ${performance.now() - t0}\n`)
  process.stdin.once('data', () => {
    store.close()
    process.exit(0)
  })
})
