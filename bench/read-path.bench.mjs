// The natural read path against the floor, lmdb and scan(), side by side in
// one run over the same events (issue 20, read half): every contender reads
// all BENCH_EVENTS events in order and sums `payload.qty`.
//
//   node --expose-gc bench/read-path.bench.mjs
//   BENCH_EVENTS=200000 BENCH_RUNS=5 node --expose-gc bench/read-path.bench.mjs
//
// Rows: the fs.writeSync floor's scan (1 MiB reads, msgpack decode of each
// payload), lmdb getRange over the same records, causeway's
// `for (const e of store.query(Region.all())) sum += e.payload.qty` (the loop
// a user writes), the same through index access (`evs[i]`), and scan()
// batches with `b.payload(i)`. The ratios compare each row with the floor
// and with lmdb measured in the same run.
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { floorContender } from './lib/floor.mjs'
import { BENCH_DIR, config, fmtInt, fmtRatio, gc, markdownTable, median, now, payloadOffset, ROOT_DIR, scratchRoot, writeRecord } from './lib/workload.mjs'
import { causeway } from './lib/causeway.mjs'

const { Region } = await import('../dist/esm/index.mjs')

// lmdb from bench/node_modules (bench/run.mjs installs it), else the root's devDependency.
function loadLmdb() {
  for (const base of [BENCH_DIR, ROOT_DIR]) {
    try {
      const req = createRequire(path.join(base, 'package.json'))
      const lmdb = req('lmdb')
      const version = JSON.parse(fs.readFileSync(path.join(base, 'node_modules', 'lmdb', 'package.json'), 'utf8')).version
      return { lmdb, version }
    } catch {
      /* next */
    }
  }
  throw new Error('lmdb is not installed: cd bench && npm_config_nodedir=/usr npm install')
}
const { lmdb, version: lmdbVersion } = loadLmdb()
const { unpackr } = await import('./lib/workload.mjs')

const N = config.events
const RUNS = config.runs
const root = scratchRoot()

// ---- load the same N events into each ----
const floor = floorContender()
const floorDir = path.join(root, 'floor')
fs.mkdirSync(floorDir, { recursive: true })
{
  const h = floor.open(floorDir)
  floor.appendSingle(h, N)
  floor.close(h)
}

const lmdbDir = path.join(root, 'lmdb')
const env = lmdb.open({ path: lmdbDir, compression: false, encoding: 'binary', keyEncoding: 'binary', noSync: true })
const db = env.openDB('events', { encoding: 'binary', keyEncoding: 'binary', compression: false })
{
  const rec = Buffer.alloc(64 * 1024)
  for (let i = 0; i < N; i += 1000) {
    const end = Math.min(N, i + 1000)
    env.transactionSync(() => {
      for (let j = i; j < end; j++) {
        const key = Buffer.alloc(8)
        key.writeUInt32BE(Math.floor((j + 1) / 0x100000000), 0)
        key.writeUInt32BE((j + 1) >>> 0, 4)
        db.putSync(key, rec.subarray(0, writeRecord(rec, 0, j)))
      }
    })
  }
}

const cw = causeway('causeway', 'causeway', { sync: { mode: 'none' } })
const cwDir = path.join(root, 'causeway')
{
  const s = cw.open(cwDir)
  cw.appendBatch(s, N)
  s.close()
}
const store = cw.open(cwDir)

// ---- the reads ----
const reads = {
  floor: ['fs floor scan (1 MiB reads + msgpack decode)', () => floor.reads.scanDecode({ dir: floorDir })],
  lmdb: [
    `lmdb ${lmdbVersion} getRange`,
    () => {
      let events = 0
      let check = 0
      for (const { value } of db.getRange({})) {
        check += unpackr.unpack(value.subarray(payloadOffset(value))).qty
        events++
      }
      return { events, check }
    },
  ],
  queryForOf: [
    'causeway for...of query(Region.all()), e.payload.qty',
    () => {
      let events = 0
      let check = 0
      for (const e of store.query(Region.all())) {
        check += e.payload.qty
        events++
      }
      return { events, check }
    },
  ],
  queryIndex: [
    'causeway query(Region.all()), evs[i].payload.qty',
    () => {
      const evs = store.query(Region.all())
      let check = 0
      for (let i = 0; i < evs.length; i++) check += evs[i].payload.qty
      return { events: evs.length, check }
    },
  ],
  scan: ['causeway scan(), b.payload(i).qty', () => cw.reads.scanDecode(store)],
}

const times = Object.fromEntries(Object.keys(reads).map((k) => [k, []]))
let expect
for (let run = 0; run <= RUNS; run++) {
  // Run 0 warms up (JIT, page cache) and is not counted; the order rotates.
  const keys = Object.keys(reads)
  const order = keys.slice(run % keys.length).concat(keys.slice(0, run % keys.length))
  for (const k of order) {
    gc()
    const t0 = now()
    const r = reads[k][1]()
    const ms = now() - t0
    const sig = `${r.events}/${r.check}`
    expect ??= sig
    if (sig !== expect || r.events !== N) throw new Error(`${k} read ${sig}, expected ${expect} (${N} events)`)
    if (run > 0) times[k].push(ms)
  }
}

store.close()
env.close()
fs.rmSync(root, { recursive: true, force: true })

const rate = (k) => N / (median(times[k]) / 1000)
const rows = Object.keys(reads).map((k) => [
  reads[k][0],
  fmtInt(rate(k)),
  times[k].map((t) => t.toFixed(0)).join(' / '),
  fmtRatio(rate(k) / rate('floor')),
  fmtRatio(rate(k) / rate('lmdb')),
])
console.log(`read path: ${fmtInt(N)} events, ${RUNS} runs (median), node ${process.version}, every read summed payload.qty (${expect})\n`)
console.log(markdownTable(['read', 'events/s', 'ms per run', '× floor', '× lmdb'], rows, ['l', 'r', 'r', 'r', 'r']))
