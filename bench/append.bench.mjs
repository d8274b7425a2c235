#!/usr/bin/env node
// Standalone append micro-benchmark: causeway single appends and batches of
// 100 against the floor, plain fs.writeSync of the same encoded records in
// 64 KiB chunks. Needs only the built package (no bench/node_modules).
//
//   node bench/append.bench.mjs                  1,000,000 events, 3 runs
//   BENCH_EVENTS=100000 BENCH_RUNS=5 node --expose-gc bench/append.bench.mjs
import { causeway } from './lib/causeway.mjs'
import { floorContender } from './lib/floor.mjs'
import {
  avgPayloadBytes,
  config,
  fmtInt,
  fmtRatio,
  freshDir,
  gc,
  markdownTable,
  median,
  now,
  removeDir,
  removeScratchRoot,
  scratchRoot,
} from './lib/workload.mjs'

const N = config.events
const cw = causeway('causeway', 'causeway', {})
const fl = floorContender()
const cases = [
  { name: 'causeway append', c: cw, fn: 'appendSingle' },
  { name: `causeway appendBatch(${config.batch})`, c: cw, fn: 'appendBatch' },
  { name: 'fs.writeSync floor (64 KiB chunks)', c: fl, fn: 'appendSingle' },
]

const root = scratchRoot()
try {
  const times = new Map(cases.map((k) => [k, []]))
  // Warm-up, then rotate the case order each run.
  for (const k of cases) {
    const dir = freshDir(root, 'warm')
    const h = k.c.open(dir)
    k.c[k.fn](h, Math.min(N, 20_000))
    k.c.close(h)
    removeDir(dir)
  }
  for (let run = 0; run < config.runs; run++) {
    for (let i = 0; i < cases.length; i++) {
      const k = cases[(i + run) % cases.length]
      gc()
      const dir = freshDir(root, 'append')
      const h = k.c.open(dir)
      const t = now()
      k.c[k.fn](h, N)
      const ms = now() - t
      k.c.close(h)
      removeDir(dir)
      times.get(k).push((N / ms) * 1000)
      process.stderr.write(`  run ${run + 1} ${k.name.padEnd(36)} ${fmtInt((N / ms) * 1000).padStart(11)} events/s\n`)
    }
  }
  const base = median(times.get(cases[0]))
  const floor = median(times.get(cases[2]))
  console.log(`\n${fmtInt(N)} events, ${avgPayloadBytes.toFixed(1)}-byte msgpack payloads, ${config.entities} entities, median of ${config.runs} run(s), Node ${process.version}\n`)
  console.log(
    markdownTable(
      ['case', 'events/s', 'vs causeway append', 'share of floor'],
      cases.map((k) => {
        const v = median(times.get(k))
        return [k.name, fmtInt(v), fmtRatio(v / base), `${((v / floor) * 100).toFixed(0)}%`]
      }),
      ['l', 'r', 'r', 'r'],
    ),
  )
} finally {
  removeScratchRoot(root)
}
