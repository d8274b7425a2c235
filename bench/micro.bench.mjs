#!/usr/bin/env node
// Hot-path pieces, one at a time, measured the same way before and after a
// change (the `benchmark` package: each case run until its margin of error is
// small, ops/s and ±%). Per event: payload encoding (msgpack, fresh buffer
// and the single append's reused buffer), BLAKE3 and CRC32C of a frame-sized
// input (the addon's own functions), one single append with and without two
// tags (sync none), one batch of 100, one scan() batch of 4,096 decoded
// events. Needs only the built package (npm run build).
//
//   node bench/micro.bench.mjs
//   BENCH_MICRO=append,scan node bench/micro.bench.mjs   only the cases whose name starts so
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'
import Benchmark from 'benchmark'

const require = createRequire(import.meta.url)
const { Store, Coordinate, EventKind, Region } = require('../dist/cjs/index.js')
const codec = require('../dist/cjs/codec.js')
const addon = require('../dist/cjs/native/index.js').native()

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-micro-'))
const only = process.env.BENCH_MICRO?.split(',')
const payloads = Array.from({ length: 256 }, (_, i) => ({ orderId: `o-${i}`, qty: i % 7, sku: `sku-${i % 31}`, price: 12.5 + i }))
const frame = Buffer.alloc(200, 7) // about one frame: header, names, a 150-byte payload
const coords = Array.from({ length: 1000 }, (_, i) => new Coordinate(`order:${i}`, 'shop'))
const K = EventKind.custom(1, 1)
const TAGS = payloads.map((_, i) => ({ tags: [`sku:${i % 31}`, `order:${i}`] }))

const open = (name) => Store.open({ dataDir: path.join(root, name), sync: { mode: 'none' } })
const single = open('single')
const tagged = open('tagged')
const batched = open('batched')
const scanned = open('scanned')
for (let b = 0; b < 100; b++) scanned.appendBatch(Array.from({ length: 1000 }, (_, j) => ({ coord: coords[j], kind: K, payload: payloads[j & 255] })))
const batch = Array.from({ length: 100 }, (_, j) => ({ coord: coords[j], kind: K, payload: payloads[j & 255] }))

let i = 0
const cases = [
  ['encode payload (msgpack, fresh buffer)', () => codec.encodePayload(payloads[i++ & 255]), 1],
  ['encode payload (single append reused buffer)', () => codec.encodeSingleWithin(payloads[i++ & 255], 1 << 24), 1],
  ["BLAKE3 of 200 bytes (the addon's JS function: a call and a 32-byte Buffer)", () => addon.blake3(frame), 1],
  ["CRC32C of 200 bytes (the addon's JS function)", () => addon.crc32c(frame), 1],
  ['append, single (sync none)', () => single.append(coords[i % 1000], K, payloads[i++ & 255]), 1],
  ['append, single with 2 tags (sync none)', () => tagged.append(coords[i % 1000], K, payloads[i & 255], TAGS[i++ & 255]), 1],
  ['appendBatch of 100 (sync none)', () => batched.appendBatch(batch), 100],
  [
    'scan batch of 4096, payload decoded',
    () => {
      let n = 0
      for (const b of scanned.scan(Region.all(), { fromSequence: BigInt((i++ % 20) * 4096), batchSize: 4096 })) {
        for (let j = 0; j < b.length; j++) n += b.payload(j).qty
        break
      }
      return n
    },
    4096,
  ],
]

Benchmark.options.maxTime = Number(process.env.BENCH_MAX_TIME ?? 2) // seconds per case
const suite = new Benchmark.Suite()
for (const [name, fn, events] of cases) {
  if (only && !only.some((p) => name.startsWith(p))) continue
  suite.add(name, fn, { events })
}
const rows = []
suite.on('error', (e) => {
  throw e.target.error
})
suite.on('cycle', (e) => {
  const b = e.target
  const nsPerEvent = 1e9 / (b.hz * b.options.events)
  rows.push([b.name, nsPerEvent, b.stats.rme, b.stats.sample.length])
  console.error(String(b))
})
suite.run()
for (const s of [single, tagged, batched, scanned]) s.close()
fs.rmSync(root, { recursive: true, force: true })
console.log(`\nNode ${process.version}, ${os.cpus().length} CPUs, the benchmark package's defaults\n`)
console.log('| piece | ns per event | ± | samples |')
console.log('|---|--:|--:|--:|')
for (const [name, ns, rme, n] of rows) console.log(`| ${name} | ${ns.toFixed(1)} | ${rme.toFixed(1)}% | ${n} |`)
