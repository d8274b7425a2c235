// One process of the several-processes bench: opens the store (the writer
// role if nobody holds it, else a client), waits for "go" on stdin, appends
// `n` events (singles, or batches of `batch`), prints the elapsed ms.
const { Store, Coordinate, EventKind, Region } = require('../../dist/cjs/index.js')
const [dir, mode, n, batch, tag] = process.argv.slice(2)
const store = Store.open({ dataDir: dir })
const K = EventKind.custom(1, 1)
const coord = new Coordinate(`bench:${tag}`, 's')
// 'fill' and 'hold': the writer appends n events before it is ready; on
// 'go', 'fill' and 'read' read every event (scan, payloads decoded).
if (mode === 'fill' || mode === 'hold') {
  for (let i = 0; i < Number(n); i += 1000) store.appendBatch(Array.from({ length: 1000 }, (_, j) => ({ coord, kind: K, payload: { i: i + j, name: `event ${i + j}` } })))
}
process.stdout.write(`ready ${store.stats().role}\n`)
if (mode === 'fill' || mode === 'hold' || mode === 'read') {
  process.stdin.once('data', () => {
    const t0 = performance.now()
    let count = 0
    if (mode !== 'hold') for (const batch of store.scan(Region.all())) for (let i = 0; i < batch.length; i++) if (batch.payload(i)) count++
    process.stdout.write(`done ${performance.now() - t0} ${count}\n`)
    process.stdin.once('data', () => {
      store.close()
      process.exit(0)
    })
  })
  return
}
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
