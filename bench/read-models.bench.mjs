#!/usr/bin/env node
// Projection snapshots and automatic maintenance, side by side in one run.
//  1. project() of one long entity right after a reopen: re-folded from the
//     first event (no snapshots) against started from the snapshot written
//     at the last close (projectionSnapshots), 10 new events applied either way.
//  2. Single appends/s while background maintenance compacts (retention) and
//     snapshots against the same appends with no maintenance.
// Needs only the built package (npm run build).
//
//   node bench/read-models.bench.mjs                  200,000 events, 5 rounds
//   BENCH_EVENTS=50000 BENCH_ROUNDS=3 node bench/read-models.bench.mjs
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

const { Store, Coordinate, EventKind } = await import('../dist/esm/index.mjs')

const N = Number(process.env.BENCH_EVENTS ?? 200_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const APPENDS = Number(process.env.BENCH_APPENDS ?? 200_000)
const K = EventKind.custom(1, 1)
const entity = new Coordinate('meter:1', 'plant')
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (x, d = 1) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const usage = { name: 'usage', version: 1, init: () => ({ kwh: 0, n: 0 }), apply: (s, e) => ({ kwh: s.kwh + e.payload.kwh, n: s.n + 1 }) }

function fill(s, n, from = 0) {
  for (let b = from; b < from + n; b += 5_000) {
    const items = []
    for (let i = b; i < Math.min(from + n, b + 5_000); i++) items.push({ coord: entity, kind: K, payload: { kwh: i % 7 } })
    s.appendBatch(items)
  }
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-bench-read-models-'))
try {
  const dir = path.join(root, 'store')
  let s = Store.open({ dataDir: dir, sync: { mode: 'none' }, projectionSnapshots: true })
  fill(s, N)
  s.project(entity, usage)
  s.close()
  const refold = []
  const fromSnapshot = []
  for (let r = 0; r < ROUNDS; r++) {
    for (const snap of [false, true]) {
      s = Store.open({ dataDir: dir, sync: { mode: 'none' }, projectionSnapshots: snap })
      fill(s, 10, N + r * 20 + (snap ? 10 : 0))
      const t0 = performance.now()
      const res = s.project(entity, usage)
      const ms = performance.now() - t0
      if (snap && !res.cacheHit) throw new Error('expected a snapshot hit')
      ;(snap ? fromSnapshot : refold).push(ms)
      s.close()
    }
  }
  const a = median(refold)
  const b = median(fromSnapshot)
  console.log(`project() after reopen, ${N.toLocaleString('en-US')} events: re-fold ${fmt(a, 2)} ms, from snapshot ${fmt(b, 2)} ms, ${fmt(a / b)}x`)

  const rates = { none: [], maintenance: [] }
  const worst = { none: [], maintenance: [] }
  for (let r = 0; r < ROUNDS; r++) {
    for (const mode of ['none', 'maintenance']) {
      const d = path.join(root, `m-${r}-${mode}`)
      const to = path.join(root, `snaps-${r}-${mode}`)
      const maintenance = {
        checkEveryMs: 10,
        compact: { when: { sealedSegments: 2 }, strategy: 'retention', keep: (e) => e.payload.kwh !== 0 },
        snapshot: { every: 20, to, keep: 2 },
      }
      const st = Store.open({ dataDir: d, sync: { mode: 'none' }, segmentMaxBytes: 1 << 20, ...(mode === 'maintenance' ? { maintenance } : {}) })
      fill(st, 50_000)
      const t0 = performance.now()
      let max = 0
      for (let i = 0; i < APPENDS; i++) {
        const a0 = performance.now()
        st.append(entity, K, { kwh: i % 7 })
        const took = performance.now() - a0
        if (took > max) max = took
        if (i % 2_000 === 0) await new Promise((done) => setImmediate(done)) // let the background work run
      }
      rates[mode].push(APPENDS / ((performance.now() - t0) / 1000))
      worst[mode].push(max)
      const m = st.metrics().maintenance
      if (mode === 'maintenance' && r === 0) console.log(`  maintenance in round 1: ${m.compactions} compactions, ${m.snapshots} snapshots`)
      st.close()
    }
  }
  const x = median(rates.none)
  const y = median(rates.maintenance)
  console.log(`appends/s: without maintenance ${fmt(x, 0)}, with maintenance running ${fmt(y, 0)} (${fmt(y / x, 2)}x)`)
  console.log(`slowest single append (median of rounds): without ${fmt(median(worst.none), 2)} ms, with ${fmt(median(worst.maintenance), 2)} ms`)
} finally {
  fs.rmSync(root, { recursive: true, force: true })
}
