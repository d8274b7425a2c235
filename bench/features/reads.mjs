// Reads: walkAncestors, cursor, subscription fan-out, projections with and
// without a cache hit.
import { setImmediate as tick } from 'node:timers/promises'
import {
  ENTITIES,
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
  scopeNames,
} from '../lib/workload.mjs'
import { Store, Coordinate, Region, N, RUNS, POOL, coords, kinds, log, problem, raw, settle, fillWorkload } from './common.mjs'

export const BIG = 5 // entities of 10,000 events each
export const BIG_EVENTS = 10_000
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

export async function readsBench(root, bigDir) {
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
