#!/usr/bin/env node
// Windowed aggregations, side by side in one run (issue 19, part 3): over N
// events, (a) count per 10 ms tumbling window by record time, natively
// (store.aggregate: index columns only), (b) the sum of a payload field per
// window natively (each frame CRC-checked, the field read from the stored
// MessagePack in C++), and (c) that same sum as a JS fold over scan()
// (every payload decoded), plus (d) the count as a JS fold over scan()
// reading only the timestamp. Medians of BENCH_RUNS runs. The native and JS
// results are checked equal before any figure is printed. An untimed
// native pass over every frame runs first (see below).
// Needs only the built package (npm run build).
//
//   node bench/aggregate.bench.mjs                   10,000,000 events, 3 runs
//   BENCH_EVENTS=1000000 BENCH_RUNS=5 node bench/aggregate.bench.mjs
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

const { Store, Coordinate, EventKind, Query } = await import('../dist/esm/index.mjs')

const N = Number(process.env.BENCH_EVENTS ?? 10_000_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const SCAN_RUNS = Number(process.env.BENCH_SCAN_RUNS ?? 3)
const WINDOW_MS = 10
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (x, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-bench-agg-'))

function timed(f) {
  const t0 = performance.now()
  const r = f()
  return { r, ms: performance.now() - t0 }
}

const s = Store.open({ dataDir: path.join(root, 'agg'), sync: { mode: 'none' }, segmentMaxBytes: 512 << 20 })
const kind = EventKind.custom(1, 1)
const coords = Array.from({ length: 1000 }, (_, i) => new Coordinate(`order:${i}`, 'shop'))
const build = timed(() => {
  for (let b = 0; b < N; b += 10_000) {
    const n = Math.min(10_000, N - b)
    s.appendBatch(Array.from({ length: n }, (_, j) => ({ coord: coords[(b + j) % 1000], kind, payload: { sku: 'A-1', amount: (b + j) % 97, qty: 1 } })))
  }
})
s.sync()
console.log(`built ${fmt(N)} events in ${fmt(build.ms / 1000, 1)} s (${fmt(N / (build.ms / 1000))} appends/s)`)

const countSpec = { window: { tumbling: WINDOW_MS }, measures: { n: 'count' } }
const sumSpec = { window: { tumbling: WINDOW_MS }, measures: { total: { sum: 'amount' } } }
const SIZE_US = WINDOW_MS * 1000

function jsFold(withPayload) {
  const cells = new Map()
  for (const batch of s.scan(Query.all(), { batchSize: 10_000 })) {
    for (let i = 0; i < batch.length; i++) {
      const start = Math.floor(batch.timestampUs(i) / SIZE_US) * SIZE_US
      const add = withPayload ? batch.payload(i).amount : 1
      cells.set(start, (cells.get(start) ?? 0) + (typeof add === 'number' ? add : 0))
    }
  }
  return cells
}

// One untimed pass over every frame first: the first read of a segment's
// pages through the mapping pays page faults that whichever side ran first
// would be charged with (the native side, below). Both sides then read warm.
s.aggregate(sumSpec)

const rows = { nativeCount: [], nativeSum: [], jsSum: [], jsCount: [] }
let check
for (let r = 0; r < RUNS; r++) {
  const c = timed(() => s.aggregate(countSpec))
  const m = timed(() => s.aggregate(sumSpec))
  rows.nativeCount.push(c.ms)
  rows.nativeSum.push(m.ms)
  if (r < SCAN_RUNS) {
    const js = timed(() => jsFold(true))
    const jc = timed(() => jsFold(false))
    rows.jsSum.push(js.ms)
    rows.jsCount.push(jc.ms)
    check = { c: c.r, m: m.r, js: js.r, jc: jc.r }
  }
}
// Same answers, or no figures.
const total = check.c.reduce((a, w) => a + w.n, 0)
if (total !== N) throw new Error(`native count ${total} != ${N}`)
if (check.m.length !== check.js.size || check.m.some((w) => check.js.get(w.startUs) !== w.total)) throw new Error('native sum != JS fold')
if (check.c.some((w) => check.jc.get(w.startUs) !== w.n)) throw new Error('native count != JS fold')

const rate = (ms) => N / (ms / 1000)
const line = (name, ms) => console.log(`${name.padEnd(44)} ${fmt(median(ms), 1).padStart(10)} ms  ${fmt(rate(median(ms))).padStart(14)} events/s`)
console.log(`${fmt(N)} events, ${check.c.length} windows of ${WINDOW_MS} ms; medians of ${RUNS} native runs, ${Math.min(SCAN_RUNS, RUNS)} JS runs`)
line('count per window, native aggregate', rows.nativeCount)
line('count per window, JS fold over scan()', rows.jsCount)
line('sum(amount) per window, native aggregate', rows.nativeSum)
line('sum(amount) per window, JS fold over scan()', rows.jsSum)
// Ratios within each round (the CPU is shared: a round's two sides ran back to back).
const ratios = (js, nat) => js.map((ms, i) => ms / nat[i])
const sumRatios = ratios(rows.jsSum, rows.nativeSum)
const countRatios = ratios(rows.jsCount, rows.nativeCount)
console.log(`sum: native ${sumRatios.map((x) => fmt(x, 1) + 'x').join(', ')} the JS fold by round (median ${fmt(median(sumRatios), 1)}x); count: ${countRatios.map((x) => fmt(x, 1) + 'x').join(', ')} (median ${fmt(median(countRatios), 1)}x)`)
s.close()
fs.rmSync(root, { recursive: true, force: true })
