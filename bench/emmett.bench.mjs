// appendToStream and aggregateStream per second: causeway/emmett beside
// @event-driven-io/emmett-sqlite on the same workload, when that package is
// installed in bench/node_modules (bench/package.json lists it; its sqlite3
// builds from source where no prebuilt binary can be fetched:
// `npm_config_nodedir=/usr npm install --prefix bench`); otherwise causeway alone.
// emmett-sqlite commits each append in SQLite's default mode (rollback
// journal, synchronous=FULL: an fsync per commit), so causeway is measured
// twice: with its default (background group sync) and with `durable: true`
// (each appendToStream returns after fdatasync), the like-for-like row.
//
//   node bench/emmett.bench.mjs            20,000 appends, 2,000 aggregations of a 100-event stream
//   BENCH_APPENDS=2000 node bench/emmett.bench.mjs
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'

const benchDir = path.dirname(fileURLToPath(import.meta.url))
const { getCausewayEventStore } = await import(pathToFileURL(path.join(benchDir, '..', 'dist', 'esm', 'emmett.mjs')).href)
const APPENDS = Number(process.env.BENCH_APPENDS ?? 20_000)
const AGGREGATIONS = Number(process.env.BENCH_AGGREGATIONS ?? 2000)

async function sqliteStore(dir) {
  let mod
  try {
    mod = await import(pathToFileURL(createRequire(path.join(benchDir, 'package.json')).resolve('@event-driven-io/emmett-sqlite')).href)
  } catch {
    return undefined
  }
  const es = mod.getSQLiteEventStore({ fileName: path.join(dir, 'emmett.db'), schema: { autoMigration: 'CreateOrUpdate' } })
  return { es, close: async () => es.close?.() }
}

async function causewayStore(dir) {
  const es = getCausewayEventStore({ dataDir: dir })
  return { es, close: () => es.close() }
}

async function causewayDurableStore(dir) {
  const es = getCausewayEventStore({ dataDir: dir, durable: true })
  return { es, close: () => es.close() }
}

const evolve = (s, e) => s + e.data.n
async function measure(name, make) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `emmett-bench-${name}-`))
  try {
    const made = await make(dir)
    if (!made) return undefined
    const { es } = made
    // appendToStream: one event per call with the expected version, 100 streams round robin.
    const versions = new Array(100).fill(0n)
    let t = process.hrtime.bigint()
    for (let i = 0; i < APPENDS; i++) {
      const s = i % 100
      const r = await es.appendToStream(`cart-${s}`, [{ type: 'ItemAdded', data: { n: 1, sku: `sku-${i}` } }], { expectedStreamVersion: versions[s] })
      versions[s] = r.nextExpectedStreamVersion
    }
    const appendSec = Number(process.hrtime.bigint() - t) / 1e9
    await es.appendToStream('agg', Array.from({ length: 100 }, (_, i) => ({ type: 'ItemAdded', data: { n: i, sku: `s${i}` } })))
    t = process.hrtime.bigint()
    for (let i = 0; i < AGGREGATIONS; i++) await es.aggregateStream('agg', { evolve, initialState: () => 0 })
    const aggSec = Number(process.hrtime.bigint() - t) / 1e9
    await made.close()
    return { name, appends: APPENDS / appendSec, aggregations: AGGREGATIONS / aggSec }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const ROUNDS = Number(process.env.BENCH_RUNS ?? 1)
const cases = [['causeway', causewayStore], ['causeway durable', causewayDurableStore], ['emmett-sqlite', sqliteStore]]
const all = []
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order each round so no case always runs first on a cold or busy machine.
  const order = cases.map((_, i) => cases[(i + round) % cases.length])
  const rows = {}
  for (const [name, make] of order) rows[name] = await measure(name, make)
  all.push(rows)
  for (const [name] of cases) {
    const r = rows[name]
    if (r) console.log(`round ${round + 1} ${name.padEnd(17)} appendToStream ${Math.round(r.appends).toLocaleString('en')}/s   aggregateStream(100 events) ${Math.round(r.aggregations).toLocaleString('en')}/s`)
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const ratio = (a, b, k) => median(all.map((r) => r[a][k] / r[b][k]))
if (all[0]['emmett-sqlite']) {
  console.log(`medians of ${ROUNDS} rounds' ratios: causeway / emmett-sqlite appends ${ratio('causeway', 'emmett-sqlite', 'appends').toFixed(1)}x, ` +
    `durable causeway / emmett-sqlite appends ${ratio('causeway durable', 'emmett-sqlite', 'appends').toFixed(1)}x, ` +
    `aggregations ${ratio('causeway', 'emmett-sqlite', 'aggregations').toFixed(1)}x`)
} else console.log('emmett-sqlite is not installed in bench/node_modules: causeway alone (see the header to install it)')
