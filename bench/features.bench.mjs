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
// BENCH_JSON (write the raw figures to this file).
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { setImmediate as tick } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { floorContender } from './lib/floor.mjs'
import {
  BENCH_DIR,
  avgPayloadBytes,
  config,
  ENTITIES,
  entityNames,
  fmtInt,
  fmtRatio,
  freshDir,
  gc,
  kindTypeOf,
  markdownTable,
  median,
  now,
  payloads,
  removeDir,
  removeScratchRoot,
  scopeNames,
  scopeOf,
  scratchRoot,
} from './lib/workload.mjs'

const { Store, Coordinate, EventKind, Region } = await import('../dist/esm/index.mjs')

const libDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib')
const N = config.events
const D = config.durableEvents
const RUNS = config.runs
const POOL = config.payloadPool
const BATCH = config.batch
const groups = new Set((process.env.BENCH_FEATURES ?? 'mp,open,reads').split(',').map((s) => s.trim()))

const coords = entityNames.map((name, e) => new Coordinate(name, scopeNames[scopeOf(e)]))
const kinds = [null, 1, 2, 3, 4].map((t) => (t === null ? null : EventKind.custom(1, t)))

const log = (msg) => process.stderr.write(msg + '\n')
const problems = [] // anything wrong: missing events, errors, crashes
const problem = (msg) => {
  problems.push(msg)
  log(`  PROBLEM: ${msg}`)
}
const raw = {} // everything measured, for BENCH_JSON

function settle() {
  gc()
  try {
    execFileSync('sync')
  } catch {}
}

/** Appends workload events [from, to) with appendBatch (untimed store building). */
function fillWorkload(s, from, to) {
  for (let i = from; i < to; i += BATCH) {
    const items = []
    for (let j = i; j < Math.min(to, i + BATCH); j++) items.push({ coord: coords[j % ENTITIES], kind: kinds[kindTypeOf(j)], payload: payloads[j % POOL] })
    s.appendBatch(items)
  }
}

// =============================================================== multi-producer

const MP_CASES = [
  { key: 'single', mode: 'single', durable: false, label: 'single appends' },
  { key: 'batch', mode: 'batch', durable: false, label: `batches of ${BATCH}` },
  { key: 'durable', mode: 'single', durable: true, label: 'durable single appends' },
  { key: 'durableBatch', mode: 'batch', durable: true, label: `durable batches of ${BATCH}` },
]
const PRODUCERS = [1, 4]
/** Total events of a case with `p` producers. Durable cases: a fixed count per producer. */
const mpCount = (c, p) => (!c.durable ? N : c.mode === 'single' ? D * p : 5 * D * p)

function runWorkers(dir, c, producers, count) {
  const gate = new SharedArrayBuffer(8)
  const g = new Int32Array(gate)
  const workers = []
  const results = []
  for (let w = 0; w < producers; w++) {
    const worker = new Worker(path.join(libDir, 'mp-worker.mjs'), {
      workerData: { dir, mode: c.mode, durable: c.durable, index: w, producers, count, gate },
    })
    results.push(
      new Promise((resolve) => {
        let done = false
        worker.once('message', (m) => {
          done = true
          resolve(m)
        })
        worker.once('error', (e) => {
          if (!done) resolve({ ok: false, firstError: `worker error: ${e?.stack ?? e}` })
          done = true
        })
        worker.once('exit', (code) => {
          if (!done) resolve({ ok: false, firstError: `worker exited with code ${code} before reporting` })
          done = true
        })
      }),
    )
    workers.push(worker)
  }
  return { g, results }
}

async function mpRun(root, c, producers, runIdx, verify) {
  const count = mpCount(c, producers)
  const dir = freshDir(root, `mp-${c.key}-${producers}`)
  // The main thread holds the shared store too, to read its stats (syncs) at the end.
  const main = Store.open({ dataDir: dir })
  const syncs0 = main.stats().syncs
  settle()
  const { g, results } = runWorkers(dir, c, producers, count)
  // Barrier: wait (without blocking the event loop, the workers need it for their messages) until all are open.
  const deadline = Date.now() + 60_000
  while (Atomics.load(g, 0) < producers && Date.now() < deadline) await tick()
  Atomics.store(g, 1, 1)
  Atomics.notify(g, 1)
  const rs = await Promise.all(results)
  const st = main.stats()
  const out = { producers, count, ok: rs.every((r) => r.ok) }
  const failed = rs.filter((r) => !r.ok || r.errors > 0)
  if (failed.length) problem(`multi-producer ${c.key} ×${producers} run ${runIdx + 1}: ${failed.map((r) => `${r.errors ?? '?'} failed appends, ${r.firstError}`).join(' | ')}`)
  if (out.ok) {
    const t0 = Math.min(...rs.map((r) => r.t0))
    const t1 = Math.max(...rs.map((r) => r.t1))
    out.ms = t1 - t0
    out.eps = (count / out.ms) * 1000
    out.appended = rs.reduce((a, r) => a + r.appended, 0)
    out.syncs = st.syncs - syncs0
    if (st.events !== count || out.appended !== count) problem(`multi-producer ${c.key} ×${producers} run ${runIdx + 1}: ${st.events} events in the store, ${out.appended} acknowledged, ${count} expected`)
    if (c.durable && st.durableSequence < BigInt(count)) problem(`multi-producer ${c.key} ×${producers}: durableSequence ${st.durableSequence} < ${count} after every durable append returned`)
  }
  if (verify && out.ok) {
    // Every event present, every entity's chain intact (hashes and links), every stream complete.
    const t = now()
    const rep = main.verifyChain()
    const bad = rep.contentMismatches.length + rep.brokenLinks.length + rep.missingParents.length
    let short = 0
    for (let e = 0; e < ENTITIES; e += 97) {
      const want = Math.floor(count / ENTITIES) + (e < count % ENTITIES ? 1 : 0)
      const got = main.stream(entityNames[e])
      if (got.length !== want) short++
      for (let k = 0; k < got.length; k++) if (got[k].clock !== k + 1) short++
    }
    out.verify = { eventsChecked: rep.eventsChecked, bad, shortStreams: short, ms: now() - t }
    if (bad || short || rep.eventsChecked !== count) problem(`multi-producer ${c.key} ×${producers}: verifyChain checked ${rep.eventsChecked}/${count}, ${bad} chain faults, ${short} stream faults`)
    log(`    verifyChain: ${rep.eventsChecked} events, ${bad} faults; sampled streams complete: ${short === 0}`)
  }
  main.close()
  removeDir(dir)
  if (out.ok)
    log(`  run ${runIdx + 1} ${`${c.label} ×${producers}`.padEnd(32)} ${fmtInt(out.eps).padStart(11)} events/s  (${fmtInt(count)} events, ${(out.ms / 1000).toFixed(2)} s, ${fmtInt(out.syncs)} syncs)`)
  return out
}

async function multiProducer(root) {
  log('multi-producer appends (worker_threads sharing one store)...')
  // Warm-up: one short untimed pass of every case with 4 workers.
  for (const c of MP_CASES) {
    const dir = freshDir(root, 'mp-warm')
    const { g, results } = runWorkers(dir, c, 4, c.durable ? 400 : 20_000)
    while (Atomics.load(g, 0) < 4) await tick()
    Atomics.store(g, 1, 1)
    Atomics.notify(g, 1)
    await Promise.all(results)
    removeDir(dir)
  }
  const res = {} // res[key][producers] = [run results]
  const floor = floorContender()
  const floorEps = []
  for (let run = 0; run < RUNS; run++) {
    for (const c of MP_CASES) {
      const order = run % 2 ? [...PRODUCERS].reverse() : PRODUCERS
      for (const p of order) {
        const r = await mpRun(root, c, p, run, run === 0 && p === 4 && c.key === 'single')
        ;((res[c.key] ??= {})[p] ??= []).push(r)
      }
    }
    // The raw fdatasync floor, in the same run (writeSync + fdatasync per event, preallocated file).
    settle()
    const dir = freshDir(root, 'mp-floor')
    const h = floor.open(dir, { durable: true })
    const t = now()
    floor.appendDurable(h, D)
    const ms = now() - t
    floor.close(h)
    removeDir(dir)
    floorEps.push((D / ms) * 1000)
    log(`  run ${run + 1} ${'fdatasync floor'.padEnd(32)} ${fmtInt((D / ms) * 1000).padStart(11)} events/s`)
  }
  raw.multiProducer = { res, floorEps }
  const eps = (key, p) => median((res[key]?.[p] ?? []).filter((r) => r.ok).map((r) => r.eps))
  const evPerSync = (key, p) => {
    const rs = (res[key]?.[p] ?? []).filter((r) => r.ok && r.syncs > 0)
    return rs.length ? median(rs.map((r) => r.count / r.syncs)) : NaN
  }
  const fl = median(floorEps)
  const cell = (key, p) => {
    const v = eps(key, p)
    return Number.isFinite(v) ? `${fmtInt(v)} (${fmtRatio(v / eps(key, 1))})` : 'failed'
  }
  const out = []
  out.push(
    markdownTable(
      ['producers', ...MP_CASES.map((c) => c.label)],
      PRODUCERS.map((p) => [`${p} worker${p > 1 ? 's' : ''}`, ...MP_CASES.map((c) => cell(c.key, p))]),
      ['l', 'r', 'r', 'r', 'r'],
    ),
  )
  out.push('')
  out.push(
    markdownTable(
      ['durable case', 'events/s', 'vs fdatasync floor', 'events per fdatasync'],
      [
        ...MP_CASES.filter((c) => c.durable).flatMap((c) =>
          PRODUCERS.map((p) => [`${c.label}, ${p} worker${p > 1 ? 's' : ''}`, fmtInt(eps(c.key, p)), fmtRatio(eps(c.key, p) / fl), evPerSync(c.key, p).toFixed(1)]),
        ),
        ['fdatasync floor (writeSync + fdatasync per event, 1 thread)', fmtInt(fl), '1.00×', '1.0'],
      ],
      ['l', 'r', 'r', 'r'],
    ),
  )
  const counts = MP_CASES.map((c) => `${c.label}: ${PRODUCERS.map((p) => `${fmtInt(mpCount(c, p))} with ${p}`).join(', ')}`).join('; ')
  return { table: out.join('\n'), counts, summary: { single4: eps('single', 4), batch4: eps('batch', 4), durable1: eps('durable', 1), durable4: eps('durable', 4), durableBatch4: eps('durableBatch', 4), floor: fl } }
}

// ========================================================================= open

function probe(dir) {
  const p = spawnSync(process.execPath, ['--expose-gc', path.join(libDir, 'open-ckpt-probe.mjs'), dir], { encoding: 'utf8', maxBuffer: 1 << 20 })
  if (p.status !== 0) {
    const why = p.signal ? `crashed (${p.signal})` : `failed (exit ${p.status})`
    problem(`open probe on ${path.basename(dir)} ${why}: ${(p.stderr || '').trim().split('\n').slice(-3).join(' | ')}`)
    return null
  }
  return JSON.parse(p.stdout.trim().split('\n').pop())
}

async function openBench(root) {
  log('open: checkpoint vs full scan (fresh process per open)...')
  const sizes = [...new Set([Math.min(100_000, N), N])]
  const rows = []
  const res = {}
  for (const size of sizes) {
    const dir = freshDir(root, `open-${size}`)
    const s = Store.open({ dataDir: dir })
    fillWorkload(s, 0, size)
    s.close()
    const ckpt = path.join(dir, 'index.ckpt')
    if (!fs.existsSync(ckpt)) problem(`open ${size}: no index.ckpt after close`)
    const r = (res[size] = { ckpt: [], scan: [] })
    for (let run = 0; run < RUNS; run++) {
      settle()
      const a = probe(dir) // close rewrites the checkpoint
      if (a) r.ckpt.push(a)
      fs.rmSync(ckpt, { force: true })
      settle()
      const b = probe(dir)
      if (b) r.scan.push(b)
      if (!fs.existsSync(ckpt)) problem(`open ${size}: no index.ckpt after closing a store opened by a full scan`)
      log(`  run ${run + 1} ${fmtInt(size).padStart(9)} events: checkpoint ${a ? `${a.wallMs.toFixed(1)} ms (fromCheckpoint=${a.openedFromCheckpoint})` : 'failed'}, full scan ${b ? `${b.wallMs.toFixed(1)} ms (fromCheckpoint=${b.openedFromCheckpoint})` : 'failed'}`)
    }
    for (const [how, want] of [['ckpt', true], ['scan', false]]) {
      const ok = r[how]
      for (const x of ok) {
        if (x.openedFromCheckpoint !== want) problem(`open ${size} (${how}): openedFromCheckpoint = ${x.openedFromCheckpoint}, expected ${want}`)
        if (x.events !== size) problem(`open ${size} (${how}): ${x.events} events after reopen, expected ${size}`)
      }
    }
    const m = (how, f) => median(r[how].map(f))
    const scanMs = m('scan', (x) => x.wallMs)
    for (const [how, label] of [['ckpt', 'from index.ckpt'], ['scan', 'full scan (index.ckpt deleted)']]) {
      if (r[how].length === 0) {
        rows.push([fmtInt(size), label, 'failed', '', '', '', '', '', ''])
        continue
      }
      const ms = m(how, (x) => x.wallMs)
      rows.push([
        fmtInt(size),
        label,
        ms.toFixed(1),
        m(how, (x) => x.openMs).toFixed(1),
        fmtRatio(ms / scanMs),
        fmtInt((size / ms) * 1000),
        (m(how, (x) => x.indexBytes) / size).toFixed(1),
        (m(how, (x) => x.rssDelta) / size).toFixed(1),
        (m(how, (x) => x.anonDelta) / size).toFixed(1),
      ])
    }
    if (size === N) res.keepDir = dir
    else removeDir(dir)
  }
  raw.open = res
  const big = res[N]
  return {
    table: markdownTable(
      ['events', 'open', 'open ms (wall)', 'stats().openMs', 'time vs full scan', 'events/s loaded', 'index bytes/event', 'RSS delta bytes/event', 'anon RSS delta bytes/event'],
      rows,
      ['r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    keepDir: res.keepDir,
    summary: {
      ckptMs: median(big.ckpt.map((x) => x.wallMs)),
      scanMs: median(big.scan.map((x) => x.wallMs)),
      indexBytesPerEvent: median(big.ckpt.map((x) => x.indexBytes)) / N,
    },
  }
}

// ======================================================================== reads

const BIG = 5 // entities of 10,000 events each
const BIG_EVENTS = 10_000
const bigCoords = Array.from({ length: BIG }, (_, b) => new Coordinate(`big:${b}`, 'shop-big'))
const qtySum = (name) => ({
  name,
  version: 1,
  init: () => ({ n: 0, qty: 0 }),
  apply: (s, e) => ({ n: s.n + 1, qty: s.qty + e.payload.qty }),
})

function scanDecode(s) {
  const evs = s.query(Region.all())
  let check = 0
  for (let i = 0; i < evs.length; i++) check += evs[i].payload.qty
  return { events: evs.length, check }
}

function cursorScan(s) {
  const cur = s.cursor(Region.all())
  let events = 0
  let check = 0
  for (;;) {
    const b = cur.pollBatch(1000)
    if (b.length === 0) break
    events += b.length
    for (let i = 0; i < b.length; i++) check += b[i].payload.qty
  }
  return { events, check }
}

async function fanOut(root, subscribers, count) {
  const dir = freshDir(root, `fanout-${subscribers}`)
  const s = Store.open({ dataDir: dir, subscriberCapacity: 1 << 17 })
  const subs = []
  const t = { start: 0 }
  for (let k = 0; k < subscribers; k++) {
    const sub = s.subscribe(Region.all())
    const st = { sub, n: 0, check: 0, last: -1n, disorder: 0, lagged: 0, doneAt: 0 }
    sub.on('event', (e) => {
      const q = e.globalSequence
      if (q <= st.last) st.disorder++
      st.last = q
      st.check += e.payload.qty
      if (++st.n === count) st.doneAt = now()
    })
    sub.on('lagged', ({ missed }) => (st.lagged += missed))
    sub.on('error', (e) => problem(`subscriber error: ${e?.message}`))
    subs.push(st)
  }
  await tick() // let the subscriptions start pumping (they park on the notifier)
  gc()
  t.start = now()
  for (let i = 0; i < count; i += 1000) {
    for (let j = i; j < Math.min(count, i + 1000); j++) s.append(coords[j % ENTITIES], kinds[kindTypeOf(j)], payloads[j % POOL])
    await tick() // let the subscribers run
  }
  const appendedAt = now()
  const deadline = Date.now() + 120_000
  while (subs.some((x) => x.n < count && x.lagged === 0) && Date.now() < deadline) await tick()
  const end = now()
  let expectCheck = 0
  for (let j = 0; j < count; j++) expectCheck += payloads[j % POOL].qty
  const r = {
    subscribers,
    count,
    appendMs: appendedAt - t.start,
    allDeliveredMs: end - t.start,
    perSubscriberEps: subs.map((x) => (x.n / ((x.doneAt || end) - t.start)) * 1000),
    lagged: subs.reduce((a, x) => a + x.lagged, 0),
    missedTotal: subs.reduce((a, x) => a + x.sub.missed, 0),
    short: subs.filter((x) => x.n !== count).length,
    disorder: subs.reduce((a, x) => a + x.disorder, 0),
    badCheck: subs.filter((x) => x.check !== expectCheck).length,
  }
  for (const x of subs) x.sub.close()
  s.close()
  removeDir(dir)
  if (r.short || r.disorder || r.badCheck) problem(`fan-out ×${subscribers}: ${r.short} subscribers short of ${count} events, ${r.disorder} out-of-order deliveries, ${r.badCheck} checksum mismatches, ${r.missedTotal} missed (lagged)`)
  return r
}

async function readsBench(root, bigDir) {
  log('reads...')
  const res = {}
  const rows = []
  // --- store: BIG entities of 10,000 events, interleaved with 100,000 workload events.
  const bg = Math.min(100_000, N)
  const dir = freshDir(root, 'reads')
  const s = Store.open({ dataDir: dir })
  let last = null
  for (let i = 0, w = 0; i < BIG_EVENTS; i++) {
    for (let b = 0; b < BIG; b++) last = s.append(bigCoords[b], kinds[(i % 4) + 1], payloads[(i * BIG + b) % POOL])
    const upto = Math.floor(((i + 1) * bg) / BIG_EVENTS)
    fillWorkload(s, w, upto)
    w = upto
  }
  void last
  const headId = s.stream(bigCoords[0])[BIG_EVENTS - 1].eventId
  // --- reference: the full scan with decode of this store, same process.
  const refEps = []
  for (let r = 0; r < RUNS; r++) {
    gc()
    const t = now()
    const o = scanDecode(s)
    refEps.push((o.events / (now() - t)) * 1000)
  }
  // --- walkAncestors, depth 1000, from the head of big:0 (10,000-event chain)
  const walkMs = []
  let walkLen = -1
  for (let r = 0; r < 3; r++) s.walkAncestors(headId, 1000) // warm-up
  for (let r = 0; r < 20; r++) {
    const t = now()
    const w = s.walkAncestors(headId, 1000)
    walkMs.push(now() - t)
    walkLen = w.length
    if (w.length !== 1000 || w[0].eventId !== headId) problem(`walkAncestors(head, 1000) returned ${w.length} events starting at ${w[0]?.eventId}`)
  }
  res.walk = { ms: walkMs, len: walkLen }
  const wm = median(walkMs)
  rows.push(['walkAncestors(id, 1000) on a 10,000-event chain', `${wm.toFixed(2)} ms per walk (median of 20)`, fmtInt((1000 / wm) * 1000), fmtRatio((1000 / wm) * 1000 / median(refEps))])

  // --- projection: cold (10,000 events), then 100 more events, warm (cache hit, applies 100)
  const cold = []
  const warm = []
  const proj = qtySum('qtySum')
  s.project(new Coordinate('order:1', scopeNames[1]), proj) // warm-up the code path
  for (let b = 0; b < BIG; b++) {
    gc()
    let t = now()
    const a = s.project(bigCoords[b], proj)
    cold.push(now() - t)
    if (a.cacheHit || a.eventsApplied !== BIG_EVENTS || a.state.n !== BIG_EVENTS) problem(`project cold big:${b}: cacheHit ${a.cacheHit}, applied ${a.eventsApplied}, n ${a.state.n}`)
    for (let k = 0; k < 100; k++) s.append(bigCoords[b], kinds[(k % 4) + 1], payloads[k % POOL])
    t = now()
    const c = s.project(bigCoords[b], proj)
    warm.push(now() - t)
    if (!c.cacheHit || c.eventsApplied !== 100 || c.state.n !== BIG_EVENTS + 100) problem(`project warm big:${b}: cacheHit ${c.cacheHit}, applied ${c.eventsApplied}, n ${c.state.n}`)
  }
  res.project = { cold, warm }
  const cm = median(cold)
  const wmm = median(warm)
  rows.push(['project(), cold: no cache, folds 10,000 events', `${cm.toFixed(2)} ms per call (median of ${BIG})`, fmtInt((BIG_EVENTS / cm) * 1000), fmtRatio((BIG_EVENTS / cm) * 1000 / median(refEps))])
  rows.push([`project(), warm: cache hit after 100 new events, folds 100`, `${wmm.toFixed(3)} ms per call (median of ${BIG}), ${fmtRatio(cm / wmm)} faster than cold`, fmtInt((100 / wmm) * 1000), fmtRatio((100 / wmm) * 1000 / median(refEps))])
  s.close()
  removeDir(dir)

  // --- cursor over the large store (the open benchmark's N-event store, else a fresh one)
  let cdir = bigDir
  if (!cdir) {
    cdir = freshDir(root, 'cursor')
    const w = Store.open({ dataDir: cdir })
    fillWorkload(w, 0, N)
    w.close()
  }
  const cs = Store.open({ dataDir: cdir })
  cursorScan(cs) // warm-up
  const curEps = []
  const bigScanEps = []
  let expect = null
  for (let r = 0; r < RUNS; r++) {
    gc()
    let t = now()
    const a = cursorScan(cs)
    curEps.push((a.events / (now() - t)) * 1000)
    gc()
    t = now()
    const b = scanDecode(cs)
    bigScanEps.push((b.events / (now() - t)) * 1000)
    if (a.events !== N || b.events !== N || a.check !== b.check || (expect && a.check !== expect)) problem(`cursor: ${a.events} events (check ${a.check}); query: ${b.events} (check ${b.check}); expected ${N}`)
    expect = a.check
    log(`  run ${r + 1} cursor pollBatch(1000) ${fmtInt(curEps.at(-1))} events/s, query(Region.all()) ${fmtInt(bigScanEps.at(-1))} events/s`)
  }
  cs.close()
  removeDir(cdir)
  res.cursor = { curEps, bigScanEps }
  rows.push([`cursor(Region.all()), pollBatch(1000) until empty, ${fmtInt(N)} events, payload decoded`, `${(N / median(curEps)).toFixed(2)} s per pass (median of ${RUNS})`, fmtInt(median(curEps)), `${fmtRatio(median(curEps) / median(bigScanEps))} (vs query() on the same ${fmtInt(N)} events: ${fmtInt(median(bigScanEps))}/s)`])

  // --- subscription fan-out
  const FAN = Math.min(100_000, N)
  const fanRows = []
  res.fanOut = {}
  await fanOut(root, 1, 5_000) // warm-up
  const base = []
  for (let r = 0; r < RUNS; r++) {
    const x = await fanOut(root, 0, FAN)
    base.push((FAN / x.appendMs) * 1000)
  }
  res.fanOut[0] = base
  fanRows.push(['0 (appends only)', '—', '—', fmtInt(median(base)), '1.00×', '—'])
  for (const k of [1, 10, 100]) {
    const runs = []
    for (let r = 0; r < RUNS; r++) {
      settle()
      const x = await fanOut(root, k, FAN)
      runs.push(x)
      log(`  run ${r + 1} fan-out ×${k}: per subscriber ${fmtInt(median(x.perSubscriberEps))} events/s, all delivered in ${x.allDeliveredMs.toFixed(0)} ms, lagged ${x.lagged}`)
    }
    res.fanOut[k] = runs
    const per = median(runs.map((x) => median(x.perSubscriberEps)))
    const total = median(runs.map((x) => (k * FAN) / x.allDeliveredMs * 1000))
    const app = median(runs.map((x) => (FAN / x.appendMs) * 1000))
    fanRows.push([String(k), fmtInt(per), fmtInt(total), fmtInt(app), fmtRatio(app / median(base)), String(runs.reduce((a, x) => a + x.lagged, 0))])
  }
  raw.reads = res
  return {
    table: markdownTable(['read', 'time', 'events/s', 'vs full scan + decode (same store)'], rows, ['l', 'r', 'r', 'r']),
    refEps: median(refEps),
    bg,
    fanTable: markdownTable(
      ['subscribers', 'delivered/s per subscriber', 'delivered/s, all subscribers', 'appends/s meanwhile', 'appends vs no subscriber', 'lagged events'],
      fanRows,
      ['r', 'r', 'r', 'r', 'r', 'r'],
    ),
    FAN,
  }
}

// ========================================================================= main

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
