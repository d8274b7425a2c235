// Multi-producer appends: worker_threads sharing one store (group commit for
// durable appends), against the raw fdatasync floor.
import path from 'node:path'
import { setImmediate as tick } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import { floorContender } from '../lib/floor.mjs'
import {
  ENTITIES,
  entityNames,
  fmtInt,
  fmtRatio,
  freshDir,
  markdownTable,
  median,
  now,
  removeDir,
} from '../lib/workload.mjs'
import { Store, libDir, N, D, RUNS, BATCH, log, problem, raw, settle } from './common.mjs'

const MP_CASES = [
  { key: 'single', mode: 'single', durable: false, label: 'single appends' },
  { key: 'batch', mode: 'batch', durable: false, label: `batches of ${BATCH}` },
  { key: 'durable', mode: 'single', durable: true, label: 'durable single appends' },
  { key: 'durableBatch', mode: 'batch', durable: true, label: `durable batches of ${BATCH}` },
]
// BENCH_PRODUCERS=1,2 for a 2-core machine (the many-producer figures need more cores).
const PRODUCERS = (process.env.BENCH_PRODUCERS ?? '1,4').split(',').map(Number)
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

export async function multiProducer(root) {
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
        const r = await mpRun(root, c, p, run, run === 0 && p === PRODUCERS[PRODUCERS.length - 1] && c.key === 'single')
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
