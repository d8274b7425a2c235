#!/usr/bin/env node
// What the index costs in memory and in open time as the log grows (issue 21).
// For each size (1M and 10M events by default) a store is filled by a bulk
// writer (batches of 1,000 with sync 'none': the fastest way in through the
// public API; 10,000 entities, 3 scopes, 4 kinds, one of 100 tags on every
// tenth event), then, each in a fresh process so nothing is shared:
//  - writer: anonymous and file-backed resident memory per event at the end
//    of the fill (once every sealed segment's index file is in use), and the
//    index's own count (stats().indexBytes);
//  - clean reopen (after close): open time, then how long the writer took
//    to check the index files it opened by their headers (reads are timed
//    after that), memory per event after it;
//  - crash reopen: the writer SIGKILLed after the fill (no close, so no
//    checkpoint), then open time;
//  - reads on the reopened store: get by id, stream of one entity, a tag
//    query and a kind query (limit 100), median µs.
// Memory is /proc/self/status (RssAnon, RssFile) after a GC, minus the same
// figures before the open. Linux only.
//
//   node --expose-gc bench/index-memory.bench.mjs
//   BENCH_INDEX_SIZES=1000000 node --expose-gc bench/index-memory.bench.mjs
// One step at a time (a 100M store): `fill <dir>/data N`, `reopen <dir>/data`,
// `crash-append <dir>/data` (then `reopen`).
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const SIZES = (process.env.BENCH_INDEX_SIZES ?? '1000000,10000000').split(',').map(Number)
const ENTITIES = 10_000
const self = fileURLToPath(import.meta.url)
const lib = new URL('../dist/esm/index.mjs', import.meta.url).href

const mem = () => {
  const m = {}
  for (const l of fs.readFileSync('/proc/self/status', 'utf8').split('\n')) {
    const [k, v] = l.split(':')
    if (k === 'RssAnon' || k === 'RssFile') m[k] = parseInt(v) * 1024
  }
  return m
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]
const fmt = (x, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })

async function fill(dir, n, crash) {
  const { Store, Coordinate, EventKind } = await import(lib)
  globalThis.gc?.()
  const m0 = mem()
  const heap0 = process.memoryUsage().heapTotal
  const s = Store.open({ dataDir: dir, sync: { mode: 'none' } })
  const kinds = [1, 2, 3, 4].map((k) => EventKind.custom(1, k))
  const payloads = Array.from({ length: 256 }, (_, i) => ({ orderId: `o-${i}`, qty: i % 7, sku: `sku-${i % 31}`, price: 12.5 + i }))
  const coords = Array.from({ length: ENTITIES }, (_, i) => new Coordinate(`order:${i}`, `shop-${i % 3}`))
  const ids = []
  const t = performance.now()
  for (let b = 0; b < n; b += 1000) {
    const items = []
    for (let j = b; j < Math.min(n, b + 1000); j++) {
      const item = { coord: coords[j % ENTITIES], kind: kinds[j & 3], payload: payloads[j & 255] }
      if (j % 10 === 0) item.tags = [`region:${(j / 10) % 100}`]
      items.push(item)
    }
    const r = s.appendBatch(items)
    if (b % 10_000 === 0) ids.push(r[500].eventId)
  }
  const fillS = (performance.now() - t) / 1000
  // Settle: sealed segments' index files are built on a thread of their own
  // and handed over at the next append; measure once they all are (at most
  // 20 s), so a build's scratch in flight is not counted as the index.
  const pause = new Int32Array(new SharedArrayBuffer(4))
  for (let i = 0; i < 400 && s.stats().indexFiles !== undefined && s.stats().indexFiles < s.stats().segments - 1; i++) {
    Atomics.wait(pause, 0, 0, 50)
    s.append(coords[0], kinds[0], payloads[0])
  }
  globalThis.gc?.()
  const m1 = mem()
  const st = s.stats()
  // V8's own heap grew with the fill's objects; what the process holds outside it is the store's.
  const heap = process.memoryUsage().heapTotal - heap0
  const out = { fillS, anon: (m1.RssAnon - m0.RssAnon) / n, anonOutsideHeap: (m1.RssAnon - m0.RssAnon - heap) / n, file: (m1.RssFile - m0.RssFile) / n, indexBytes: Number(st.indexBytes) / n, ids }
  fs.writeFileSync(path.join(dir, '..', 'fill.json'), JSON.stringify(out))
  if (crash) process.kill(process.pid, 'SIGKILL')
  s.close()
}

// A crash of a store already filled (how the 100M crash reopen is measured,
// without a second 100M fill): appends past a roll, waits until the sealed
// segment is served by its file (the writer's periodic checkpoint follows),
// appends 200,000 more events and SIGKILLs itself. Then `reopen`.
async function crashAppend(dir) {
  const { Store, Coordinate, EventKind } = await import(lib)
  const s = Store.open({ dataDir: dir, sync: { mode: 'none' } })
  const items = Array.from({ length: 1000 }, (_, j) => ({ coord: new Coordinate(`order:${j % ENTITIES}`, `shop-${j % 3}`), kind: EventKind.custom(1, 1), payload: { orderId: `o-${j}`, qty: j % 7 } }))
  const segments = s.stats().segments
  while (s.stats().segments === segments) s.appendBatch(items)
  const pause = new Int32Array(new SharedArrayBuffer(4))
  for (let i = 0; i < 400 && s.stats().indexFiles < s.stats().segments - 1; i++) {
    Atomics.wait(pause, 0, 0, 50)
    s.appendBatch(items)
  }
  for (let i = 0; i < 200; i++) s.appendBatch(items)
  process.kill(process.pid, 'SIGKILL')
}

async function reopen(dir) {
  const { Store, EventKind, Region, Query } = await import(lib)
  const { ids } = JSON.parse(fs.readFileSync(path.join(dir, '..', 'fill.json'), 'utf8'))
  globalThis.gc?.()
  const m0 = mem()
  const t = performance.now()
  const s = Store.open({ dataDir: dir, sync: { mode: 'none' } })
  const openMs = performance.now() - t
  const n = Number(s.stats().events)
  // An open from the checkpoint checks each index file's header only; the
  // writer checks the rest on its builder thread. Reads are timed once that
  // is done (at most 20 s), so they do not share the CPU with it; how long it
  // took is reported. (Builds before it have no indexFilesChecked: no wait.)
  const pause = new Int32Array(new SharedArrayBuffer(4))
  const tv = performance.now()
  for (let i = 0; i < 1000 && s.stats().indexFilesChecked !== undefined && s.stats().indexFilesChecked < s.stats().indexFiles; i++) Atomics.wait(pause, 0, 0, 20)
  const verifyMs = performance.now() - tv
  globalThis.gc?.()
  const m1 = mem()
  const time = (runs, f) => median(Array.from({ length: runs }, (_, i) => { const t0 = performance.now(); f(i); return (performance.now() - t0) * 1000 }))
  const getUs = time(2000, (i) => { if (!s.get(ids[(i * 7919) % ids.length])) throw new Error('id not found') })
  const streamUs = time(2000, (i) => [...s.stream(`order:${(i * 7919) % ENTITIES}`, { limit: 20 })].length)
  const tagUs = time(200, (i) => [...s.query(Query.items({ tags: [`region:${i % 100}`] }), { limit: 100 })].length)
  const kindUs = time(200, (i) => [...s.query(Region.all().withFact(EventKind.custom(1, 1 + (i & 3))), { limit: 100 })].length)
  s.close()
  return { n, openMs, verifyMs, anon: (m1.RssAnon - m0.RssAnon) / n, file: (m1.RssFile - m0.RssFile) / n, getUs, streamUs, tagUs, kindUs }
}

function child(args) {
  const r = spawnSync(process.execPath, ['--expose-gc', self, ...args], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' })
  if (r.status !== 0 && args[0] !== 'crash-fill') throw new Error(`${args.join(' ')} exited ${r.status}`)
  return r.stdout.trim() ? JSON.parse(r.stdout.trim().split('\n').pop()) : null
}

const [mode, dir, n] = process.argv.slice(2)
if (mode === 'fill' || mode === 'crash-fill') await fill(dir, Number(n), mode === 'crash-fill')
else if (mode === 'reopen') console.log(JSON.stringify(await reopen(dir)))
else if (mode === 'crash-append') await crashAppend(dir)
else {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-index-memory-'))
  const rows = []
  try {
    for (const size of SIZES) {
      const base = path.join(root, `s${size}`)
      fs.mkdirSync(base)
      const data = path.join(base, 'data')
      child(['fill', data, String(size)])
      const filled = JSON.parse(fs.readFileSync(path.join(base, 'fill.json'), 'utf8'))
      const clean = [child(['reopen', data]), child(['reopen', data]), child(['reopen', data])].sort((a, b) => a.openMs - b.openMs)[1]
      fs.rmSync(base, { recursive: true, force: true })
      fs.mkdirSync(base)
      child(['crash-fill', data, String(size)])
      const crashed = child(['reopen', data])
      fs.rmSync(base, { recursive: true, force: true })
      const row = { size, filled, clean, crashed }
      rows.push(row)
      console.error(`${fmt(size)}: filled in ${filled.fillS.toFixed(1)} s; writer anon ${filled.anon.toFixed(1)} B/event (${filled.anonOutsideHeap.toFixed(1)} outside V8's heap); clean reopen ${clean.openMs.toFixed(0)} ms, anon ${clean.anon.toFixed(1)} B/event; crash reopen ${crashed.openMs.toFixed(0)} ms`)
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
  console.log(`\nNode ${process.version}, ${os.cpus().length} CPUs, ${ENTITIES.toLocaleString('en-US')} entities; memory in bytes per event, open in ms (clean: median of 3 fresh processes), reads in µs (median)\n`)
  console.log('| events | writer: anon | writer: anon outside V8 heap | writer: file-backed | writer: index count | clean reopen ms | files checked after, ms | reopened: anon | reopened: file-backed | crash reopen ms | get | stream 20 | tag query 100 | kind query 100 |')
  console.log('|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|')
  for (const r of rows) {
    const c = r.clean
    console.log(`| ${fmt(r.size)} | ${r.filled.anon.toFixed(1)} | ${r.filled.anonOutsideHeap.toFixed(1)} | ${r.filled.file.toFixed(1)} | ${r.filled.indexBytes.toFixed(1)} | ${c.openMs.toFixed(0)} | ${c.verifyMs.toFixed(0)} | ${c.anon.toFixed(1)} | ${c.file.toFixed(1)} | ${r.crashed.openMs.toFixed(0)} | ${c.getUs.toFixed(2)} | ${c.streamUs.toFixed(1)} | ${c.tagUs.toFixed(1)} | ${c.kindUs.toFixed(1)} |`)
  }
}
