#!/usr/bin/env node
// Views (store.view) in one run: events/s folded into a view (lmdb, the
// default batch of 10,000 events per transaction and batches of 1,000; and in memory) against the same fold
// written in JS over scan() into a Map, which persists nothing. The fold:
// count and sum of an amount per customer (1,000 customers), over every
// `order.placed` event; a quarter of the log is other events the query skips.
// Each case folds the whole log from sequence 0 (a view by rebuild()),
// rounds rotating the case order; medians. Needs the built package and lmdb.
//
//   node bench/views.bench.mjs                      400,000 events, 3 rounds
//   BENCH_EVENTS=100000 BENCH_ROUNDS=5 node bench/views.bench.mjs
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

const { Store, Coordinate, Query } = await import('../dist/esm/index.mjs')

const N = Number(process.env.BENCH_EVENTS ?? 400_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (x, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-bench-views-'))

const store = Store.open({ dataDir: root, sync: { mode: 'none' } })
store.types.define('order.placed')
store.types.define('order.noted')
for (let b = 0; b < N; b += 10_000) {
  const n = Math.min(10_000, N - b)
  store.appendBatch(
    Array.from({ length: n }, (_, j) => {
      const i = b + j
      const placed = i % 4 !== 3
      return { coord: new Coordinate(`order:${i}`, 'shop'), kind: placed ? 'order.placed' : 'order.noted', payload: placed ? { customer: `c${i % 1000}`, amount: i % 97 } : { note: i } }
    }),
  )
}
const query = Query.of({ types: ['order.placed'] })
const matching = [...store.scan(query)].reduce((n, b) => n + b.length, 0)
console.error(`appended ${fmt(N)} events, ${fmt(matching)} matching`)

const init = () => ({ count: 0, sum: 0 })
const apply = (s, e) => ({ count: s.count + 1, sum: s.sum + e.payload.amount })
const key = (e) => e.payload.customer
let made = 0
const viewCase = (storage, batchSize) => () => {
  const v = store.view(`v${made++}`, { query, version: 1, init, apply, key, storage, batchSize })
  const r = v.rebuild()
  const check = v.get('c1')
  v.close()
  return { applied: r.applied, check }
}
const cases = [
  ['JS fold over scan() into a Map (StoredEvent per event)', () => {
    const m = new Map()
    let applied = 0
    for (const batch of store.scan(query)) for (const e of batch) {
      const k = key(e)
      m.set(k, apply(m.get(k) ?? init(), e))
      applied++
    }
    return { applied, check: m.get('c1') }
  }],
  ['view, lmdb, batchSize 10,000 (default)', viewCase('lmdb', 10_000)],
  ['view, lmdb, batchSize 1,000', viewCase('lmdb', 1000)],
  ['view, memory, batchSize 10,000', viewCase('memory', 10_000)],
]

const rates = cases.map(() => [])
let reference
for (let r = 0; r < ROUNDS; r++) {
  for (let c = 0; c < cases.length; c++) {
    const i = (c + r) % cases.length
    const t0 = performance.now()
    const out = cases[i][1]()
    const s = (performance.now() - t0) / 1000
    if (out.applied !== matching) throw new Error(`${cases[i][0]} folded ${out.applied} events, not ${matching}`)
    reference ??= JSON.stringify(out.check)
    if (JSON.stringify(out.check) !== reference) throw new Error(`${cases[i][0]} disagrees: ${JSON.stringify(out.check)} vs ${reference}`)
    rates[i].push(out.applied / s)
  }
}
const base = median(rates[0])
console.log(`\n${fmt(matching)} matching events of ${fmt(N)}, ${ROUNDS} rounds, medians (node ${process.version}, ${os.cpus().length} CPUs)\n`)
console.log('| case | events/s | vs the JS fold |')
console.log('|---|--:|--:|')
for (let i = 0; i < cases.length; i++) console.log(`| ${cases[i][0]} | ${fmt(median(rates[i]))} | ${(median(rates[i]) / base).toFixed(2)}x |`)
store.close()
fs.rmSync(root, { recursive: true, force: true })
