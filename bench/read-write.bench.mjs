#!/usr/bin/env node
// Appends while readers read: the main thread appends single events into a
// store that a worker thread of the same process (sharing the one native
// store) reads in a loop, against the same appends with no reader. Two
// readers: scan() batches of BENCH_QUERY events (short native reads), and
// query() of the whole store (one long native read per call). Appends take
// no lock, so neither holds them up; what remains is the two threads sharing
// the machine's cores. Prints a Markdown table.
//
//   node bench/read-write.bench.mjs
//
// Environment: BENCH_PREFILL (events in the store before timing; 200,000),
// BENCH_APPENDS (timed appends per phase; 300,000), BENCH_QUERY (events per
// query; 50,000), BENCH_RUNS (3), BENCH_JSON (write the raw figures to this file).
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { fmtInt, fmtRatio, markdownTable, median } from './lib/workload.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const { Store, Coordinate, EventKind, Region } = await import(path.join(here, '../dist/esm/index.mjs'))

if (!isMainThread) {
  // The reader, back to back: the first scan() batch of `limit` events, or a
  // query() of the whole store; payloads decoded.
  const s = Store.open({ dataDir: workerData.dir })
  let stop = false
  let queries = 0
  let events = 0
  parentPort.on('message', () => {
    stop = true
  })
  parentPort.postMessage('ready')
  while (!stop) {
    if (workerData.kind === 'scan') {
      for (const b of s.scan(Region.all(), { batchSize: workerData.limit })) {
        for (let i = 0; i < b.length; i++) events += b.payload(i).qty > 0 ? 1 : 0
        break
      }
    } else {
      for (const e of s.query(Region.all())) events += e.payload.qty > 0 ? 1 : 0
    }
    queries++
    await new Promise((r) => setImmediate(r)) // lets the stop message in
  }
  parentPort.postMessage({ queries, events })
} else {
  const int = (name, d) => (process.env[name] ? Number(process.env[name]) : d)
  const PREFILL = int('BENCH_PREFILL', 200_000)
  const N = int('BENCH_APPENDS', 300_000)
  const QUERY = int('BENCH_QUERY', 50_000)
  const RUNS = int('BENCH_RUNS', 3)
  const coords = Array.from({ length: 10_000 }, (_, i) => new Coordinate(`order:${i}`, 'shop'))
  const kind = EventKind.custom(1, 1)
  const payload = { sku: 'SKU-1', qty: 3, note: 'x'.repeat(100) }

  // Appends N events, timing each; returns throughput and the slow tail.
  function appendTimed(s) {
    const lat = new Float64Array(N)
    const t0 = performance.now()
    for (let i = 0; i < N; i++) {
      const a = performance.now()
      s.append(coords[i % coords.length], kind, payload)
      lat[i] = performance.now() - a
    }
    const ms = performance.now() - t0
    lat.sort()
    return { perSec: (N / ms) * 1000, p999us: lat[Math.floor(N * 0.999)] * 1000, maxMs: lat[N - 1] }
  }

  async function beside(s, dir, kind) {
    const w = new Worker(new URL(import.meta.url), { workerData: { dir, limit: QUERY, kind } })
    await new Promise((r) => w.once('message', r))
    const appends = appendTimed(s)
    w.postMessage('stop')
    const reader = await new Promise((r) => w.once('message', r))
    await w.terminate()
    return { ...appends, reader }
  }

  const raw = []
  for (let run = 0; run < RUNS; run++) {
    const dir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'cw-rw-'))
    const s = Store.open({ dataDir: dir })
    for (let i = 0; i < PREFILL; i++) s.append(coords[i % coords.length], kind, payload)
    const alone = appendTimed(s)
    const scan = await beside(s, dir, 'scan')
    const query = await beside(s, dir, 'query')
    s.close()
    fs.rmSync(dir, { recursive: true, force: true })
    raw.push({ alone, scan, query })
    console.error(
      `run ${run + 1}: alone ${fmtInt(alone.perSec)}/s; beside scans ${fmtInt(scan.perSec)}/s (${scan.reader.queries} reads); beside queries ${fmtInt(query.perSec)}/s (${query.reader.queries} reads)`,
    )
  }
  const m = (f) => median(raw.map(f))
  const row = (label, k, reader) => [
    label,
    fmtInt(m((r) => r[k].perSec)),
    fmtRatio(m((r) => r[k].perSec / r.alone.perSec)),
    m((r) => r[k].p999us).toFixed(1),
    m((r) => r[k].maxMs).toFixed(1),
    reader,
  ]
  const readRate = (k) => `${fmtInt(m((r) => (r[k].reader.events * r[k].perSec) / N))} events/s read`
  const rows = [
    row('alone', 'alone', ''),
    row(`beside a worker scanning (batches of ${fmtInt(QUERY)})`, 'scan', readRate('scan')),
    row('beside a worker querying the whole store', 'query', readRate('query')),
  ]
  console.log(
    markdownTable(['single appends', 'events/s (median)', 'vs alone', 'p99.9 µs', 'max ms', 'reader'], rows, ['l', 'r', 'r', 'r', 'r', 'l']),
  )
  if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify({ prefill: PREFILL, appends: N, query: QUERY, runs: raw }, null, 2))
}
