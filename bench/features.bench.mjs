#!/usr/bin/env node
// Engine-feature benchmarks of causeway, in one run: multi-producer appends
// from worker_threads (group commit for durable appends), reopen from the
// index checkpoint against a full scan, and reads (walkAncestors, cursor,
// subscription fan-out, projections with and without a cache hit). Needs only
// the built package (no bench/node_modules). Prints Markdown tables.
//
//   node --expose-gc bench/features.bench.mjs                 1,000,000 events, 3 runs
//   BENCH_EVENTS=100000 node --expose-gc bench/features.bench.mjs
//
// Environment: BENCH_EVENTS (multi-producer non-durable total and the large
// open store; default 1,000,000), BENCH_DURABLE_EVENTS (durable single
// appends per producer; default 2,000; durable batches: 5× that per producer),
// BENCH_RUNS (3), BENCH_FEATURES (comma-separated groups: mp,open,reads),
// BENCH_PRODUCERS (producer counts of the mp group; default 1,4),
// BENCH_JSON (write the raw figures to this file).
//
// The groups are in bench/features/: multi-producer.mjs, open.mjs, reads.mjs
// (common.mjs holds what they share).
import fs from 'node:fs'
import os from 'node:os'
import {
  BENCH_DIR,
  avgPayloadBytes,
  config,
  fmtInt,
  removeDir,
  removeScratchRoot,
  scratchRoot,
} from './lib/workload.mjs'
import { N, D, RUNS, log, problems, raw } from './features/common.mjs'
import { multiProducer } from './features/multi-producer.mjs'
import { openBench } from './features/open.mjs'
import { BIG, BIG_EVENTS, readsBench } from './features/reads.mjs'

const groups = new Set((process.env.BENCH_FEATURES ?? 'mp,open,reads').split(',').map((s) => s.trim()))

function machine() {
  let cpu = os.cpus()[0]?.model ?? 'unknown'
  try {
    const m = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)
    if (m) cpu = m[1].trim()
  } catch {}
  return { cpu, cores: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, kernel: os.release(), date: new Date().toISOString(), dir: BENCH_DIR }
}

const root = scratchRoot()
let interrupted = false
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    interrupted = true
    removeScratchRoot(root)
    process.exit(130)
  })
}
try {
  const m = machine()
  log(`causeway feature bench: ${fmtInt(N)} events, durable ${fmtInt(D)}/producer, ${RUNS} run(s), payload ${avgPayloadBytes.toFixed(1)} B, groups: ${[...groups].join(',')}`)
  const out = [`## Feature run of ${m.date}`, '', `Machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, Node ${m.node}, Linux ${m.kernel}. Medians of ${RUNS} run(s).`, '']
  if (groups.has('mp')) {
    const r = await multiProducer(root)
    raw.mpSummary = r.summary
    out.push('### Multi-producer appends (worker_threads, one shared store)', '', `Events: ${r.counts}.`, '', r.table, '')
  }
  let keepDir
  if (groups.has('open')) {
    const r = await openBench(root)
    keepDir = r.keepDir
    raw.openSummary = r.summary
    out.push('### Open', '', r.table, '')
  }
  if (groups.has('reads')) {
    const r = await readsBench(root, keepDir)
    out.push('### Reads', '', `Reference: full scan + decode of the reads store (${fmtInt(r.bg + BIG * BIG_EVENTS)} events): ${fmtInt(r.refEps)} events/s.`, '', r.table, '')
    out.push(`### Subscription fan-out (${fmtInt(r.FAN)} single appends, subscriberCapacity 131072)`, '', r.fanTable, '')
  } else if (keepDir) removeDir(keepDir)
  out.push(problems.length ? `**Problems:**\n${problems.map((p) => `- ${p}`).join('\n')}` : 'No errors, no missing events: every check passed.')
  process.stdout.write('\n' + out.join('\n') + '\n')
  if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify({ machine: m, config, raw, problems }, (k, v) => (typeof v === 'bigint' ? String(v) : v), 2))
  if (problems.length) process.exitCode = 1
} finally {
  if (!interrupted) removeScratchRoot(root)
}
