#!/usr/bin/env node
// Paged reads of one long entity stream, in one run: the latest 20 events
// (`stream(entity, { reverse: true, limit: 20 })`), 20 events from the
// middle by clock range, the same latest 20 through a region query, and
// `clockOf`, each against reading the whole stream (`stream(entity)`). The
// paged reads walk the index from the end of the entity's posting list, so
// their cost should not depend on the stream's length. Needs only the built
// package (npm run build).
//
//   node bench/paging.bench.mjs                1,000,000 events, 5 whole reads, 2,000 paged reads
//   BENCH_EVENTS=100000 node bench/paging.bench.mjs
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

const { Store, Coordinate, EventKind, Region } = await import('../dist/esm/index.mjs')

const N = Number(process.env.BENCH_EVENTS ?? 1_000_000)
const WHOLE_RUNS = Number(process.env.BENCH_WHOLE_RUNS ?? 5)
const PAGED_RUNS = Number(process.env.BENCH_PAGED_RUNS ?? 2_000)
const K = EventKind.custom(1, 1)
const entity = new Coordinate('account:1', 'bank')
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (x, d = 1) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-bench-paging-'))
try {
  const s = Store.open({ dataDir: root, sync: { mode: 'none' } })
  const t0 = performance.now()
  for (let b = 0; b < N; b += 10_000) {
    const n = Math.min(10_000, N - b)
    s.appendBatch(Array.from({ length: n }, (_, i) => ({ coord: entity, kind: K, payload: { n: b + i, amount: (b + i) % 97 } })))
  }
  console.error(`appended ${N} events to one entity in ${fmt((performance.now() - t0) / 1000)} s`)

  // Each case returns a check value, summed so the work cannot be skipped.
  let check = 0
  const time = (runs, f) => {
    const us = []
    for (let r = 0; r < runs; r++) {
      const t = performance.now()
      check += f()
      us.push((performance.now() - t) * 1000)
    }
    return median(us)
  }
  const cases = [
    ['whole stream: `stream(entity)`, payloads decoded', WHOLE_RUNS, () => s.stream(entity).reduce((a, e) => a + e.payload.amount, 0)],
    ['latest 20: `stream(entity, { reverse: true, limit: 20 })`', PAGED_RUNS, () => s.stream(entity, { reverse: true, limit: 20 }).toArray().reduce((a, e) => a + e.payload.amount, 0)],
    ['latest 20 by region: `query(Region.entity(e), { reverse: true, limit: 20 })`', PAGED_RUNS, () => s.query(Region.entity('account:1'), { reverse: true, limit: 20 }).toArray().reduce((a, e) => a + e.payload.amount, 0)],
    ['20 from the middle: `stream(entity, { fromClock: N/2, toClock: N/2+19 })`', PAGED_RUNS, () => s.stream(entity, { fromClock: N / 2, toClock: N / 2 + 19 }).toArray().reduce((a, e) => a + e.payload.amount, 0)],
    ['`clockOf(entity)`', PAGED_RUNS, () => s.clockOf(entity)],
  ]
  const rows = []
  for (const [name, runs, f] of cases) {
    f() // warm
    rows.push([name, runs, time(runs, f)])
  }
  const whole = rows[0][2]
  console.log(`| read (one entity, ${N.toLocaleString('en-US')} events) | runs | median µs | vs whole stream |`)
  console.log('|---|--:|--:|--:|')
  for (const [name, runs, us] of rows) console.log(`| ${name} | ${runs} | ${fmt(us)} | ${us === whole ? '1x' : `${fmt(whole / us, 0)}x faster`} |`)
  console.error(`check ${check}`)
  s.close()
} finally {
  fs.rmSync(root, { recursive: true, force: true })
}
