#!/usr/bin/env node
// How cost grows with the work. Part 1, the log: one store (default options:
// sync.mode 'data', a sync every 1,000 events or 10 ms) filled with batches of
// 100 to each checkpoint (0, 1M, 10M events by default); at each, the rate of
// 100,000 single appends and 1,000 batches of 100 appended there, a full
// scan() with payloads decoded, 10,000 get() by random id and 10,000
// stream(entity) of 10-event entities, and the index's bytes per event.
// Part 2, the entities: two 1M-event stores, one over 10,000 entities and one
// over 1,000,000, the same measures. Needs only the built package.
//
//   node bench/growth.bench.mjs
//   BENCH_GROWTH_SIZES=0,1000000 BENCH_GROWTH_ENTITIES=10000,100000 node bench/growth.bench.mjs
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

const { Store, Coordinate, EventKind, Region } = await import('../dist/esm/index.mjs')

const SIZES = (process.env.BENCH_GROWTH_SIZES ?? '0,1000000,10000000').split(',').map(Number)
const ENTITY_COUNTS = (process.env.BENCH_GROWTH_ENTITIES ?? '10000,1000000').split(',').map(Number)
const SINGLES = 100_000
const BATCHES = 1_000
const LOOKUPS = 10_000
const K = EventKind.custom(1, 1)
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-growth-'))
const payloads = Array.from({ length: 256 }, (_, i) => ({ orderId: `o-${i}`, qty: i % 7, sku: `sku-${i % 31}`, price: 12.5 + i, note: 'x'.repeat(60) }))
const fmt = (x) => Math.round(x).toLocaleString('en-US')
const rnd = (() => {
  let s = 0x2545f491
  return () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32)
})()

/** Appends `n` events in batches of 100 over `entities` entities, starting at event `from`. */
function fill(s, from, n, entities, ids) {
  for (let b = 0; b < n; b += 100) {
    const items = []
    for (let j = from + b; j < from + Math.min(n, b + 100); j++) {
      items.push({ coord: new Coordinate(`order:${j % entities}`, 'shop'), kind: K, payload: payloads[j & 255] })
    }
    const r = s.appendBatch(items)
    if (ids.length < 100_000 && b % 1000 === 0) ids.push(r[0].eventId)
  }
}

function measure(s, entities, ids, label) {
  const row = { label }
  let t = performance.now()
  for (let i = 0; i < SINGLES; i++) s.append(new Coordinate(`order:${i % entities}`, 'shop'), K, payloads[i & 255])
  row.single = SINGLES / ((performance.now() - t) / 1000)
  t = performance.now()
  for (let b = 0; b < BATCHES; b++) {
    s.appendBatch(Array.from({ length: 100 }, (_, j) => ({ coord: new Coordinate(`order:${(b * 100 + j) % entities}`, 'shop'), kind: K, payload: payloads[j & 255] })))
  }
  row.batch = (BATCHES * 100) / ((performance.now() - t) / 1000)
  t = performance.now()
  let n = 0
  let check = 0
  for (const b of s.scan(Region.all())) {
    for (let i = 0; i < b.length; i++) check += b.payload(i).qty
    n += b.length
  }
  row.scan = n / ((performance.now() - t) / 1000)
  row.total = n
  t = performance.now()
  for (let i = 0; i < LOOKUPS; i++) if (!s.get(ids[Math.floor(rnd() * ids.length)])) throw new Error('an id was not found')
  row.getUs = ((performance.now() - t) * 1000) / LOOKUPS
  t = performance.now()
  let streamed = 0
  for (let i = 0; i < LOOKUPS; i++) streamed += s.stream(`order:${Math.floor(rnd() * entities)}`).length
  row.streamUs = ((performance.now() - t) * 1000) / LOOKUPS
  row.perStream = streamed / LOOKUPS
  const st = s.stats()
  row.indexBytes = st.indexBytes / n
  if (check < 0) console.log(check)
  console.error(`  ${label}: ${fmt(n)} events, single ${fmt(row.single)}/s, batch ${fmt(row.batch)}/s, scan ${fmt(row.scan)}/s, get ${row.getUs.toFixed(2)} µs, stream ${row.streamUs.toFixed(1)} µs`)
  return row
}

const table = (title, rows) => {
  console.log(`\n${title}\n`)
  console.log('| store | events at the end | single appends/s | batch(100) events/s | scan() events/s | get µs | stream(entity) µs (events each) | index bytes/event |')
  console.log('|---|--:|--:|--:|--:|--:|--:|--:|')
  for (const r of rows) {
    console.log(`| ${r.label} | ${fmt(r.total)} | ${fmt(r.single)} | ${fmt(r.batch)} | ${fmt(r.scan)} | ${r.getUs.toFixed(2)} | ${r.streamUs.toFixed(1)} (${r.perStream.toFixed(0)}) | ${r.indexBytes.toFixed(1)} |`)
  }
}

try {
  { // untimed warm-up (JIT), so the first checkpoint is not charged for it
    const w = Store.open({ dataDir: path.join(root, 'warm-up') })
    measure(w, 1000, (() => { const ids = []; fill(w, 0, 10_000, 1000, ids); return ids })(), 'warm-up')
    w.close()
    fs.rmSync(path.join(root, 'warm-up'), { recursive: true, force: true })
  }
  const log = []
  {
    const s = Store.open({ dataDir: path.join(root, 'log') })
    const ids = []
    let at = 0
    const entities = 100_000
    fill(s, 0, 1000, entities, ids)
    at = 1000
    for (const size of SIZES) {
      if (size > at) {
        const t = performance.now()
        fill(s, at, size - at, entities, ids)
        console.error(`filled to ${fmt(size)} in ${((performance.now() - t) / 1000).toFixed(1)} s`)
        at = size
      }
      log.push(measure(s, entities, ids, `${fmt(size)} events before, 100,000 entities`))
      at += SINGLES + BATCHES * 100
    }
    s.close()
  }
  fs.rmSync(path.join(root, 'log'), { recursive: true, force: true })
  const ents = []
  for (const e of ENTITY_COUNTS) {
    const dir = path.join(root, `e${e}`)
    const s = Store.open({ dataDir: dir })
    const ids = []
    fill(s, 0, 1_000_000, e, ids)
    ents.push(measure(s, e, ids, `1,000,000 events over ${fmt(e)} entities`))
    s.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
  console.log(`\nNode ${process.version}, ${os.cpus().length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`)
  table('Part 1: the log grows (one store, 100,000 entities)', log)
  table('Part 2: the entities grow (1,000,000 events each)', ents)
} finally {
  fs.rmSync(root, { recursive: true, force: true })
}
