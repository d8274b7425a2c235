// Replication to a 3-node NATS JetStream cluster on 127.0.0.1 (streams with
// 3 replicas), side by side with the primary's own append rate, in one run:
//   1. primary appends alone (no replication); 1b. the NATS client alone, bare messages
//   2. publish throughput: a filled store published from position 0
//   3. steady state: appends while the publisher follows; lag sampled every 20 ms
//   4. replicated-durable appends (durable: 'replicated'): one at a time, then 16 in flight
//   5. replica catch-up from an empty store
// Run: npm run build:ts && BENCH_EVENTS=50000 node bench/replicate.bench.mjs
// (BENCH_WINDOW: the publisher's window, default 512; BENCH_DURABLE_EVENTS: step 4's count, default 2000)
// Needs nats-server (scripts/ensure-nats.sh) and the @nats-io peers.
import { execFileSync, spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const { Store, Coordinate, EventKind } = require(path.join(root, 'dist/cjs/index.js'))
const { replicate, openReplica } = require(path.join(root, 'dist/cjs/replicate/index.js'))
const N = Number(process.env.BENCH_EVENTS ?? 50_000)
const DURABLE_N = Number(process.env.BENCH_DURABLE_EVENTS ?? 2000)
const WINDOW = Number(process.env.BENCH_WINDOW ?? 512)
const K = EventKind.custom(1, 1)
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-bench-repl-'))

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port
      s.close(() => resolve(p))
    })
  })
const healthy = (port) =>
  new Promise((resolve) => {
    http.get({ host: '127.0.0.1', port, path: '/healthz' }, (r) => (r.resume(), resolve(r.statusCode === 200))).on('error', () => resolve(false))
  })

const bin = execFileSync('sh', [path.join(root, 'scripts/ensure-nats.sh')], { encoding: 'utf8' }).trim()
const nodes = []
for (let i = 0; i < 3; i++) nodes.push({ client: await freePort(), route: await freePort(), mon: await freePort(), dir: path.join(tmp, `n${i}`) })
const procs = nodes.map((n, i) =>
  spawn(bin, ['-a', '127.0.0.1', '-p', n.client, '-m', n.mon, '-n', `n${i}`, '-js', '-sd', n.dir, '--cluster_name', 'bench',
    '--cluster', `nats://127.0.0.1:${n.route}`, '--routes', nodes.filter((o) => o !== n).map((o) => `nats://127.0.0.1:${o.route}`).join(',')], { stdio: 'ignore' }),
)
const servers = nodes.map((n) => `nats://127.0.0.1:${n.client}`)
const rows = []
const row = (name, events, ms, extra = '') => rows.push({ name, events, ms: Math.round(ms), rate: Math.round((events / ms) * 1000), extra })

try {
  for (const n of nodes) for (let t = 0; !(await healthy(n.mon)); t++) {
    if (t > 300) throw new Error('nats-server not healthy')
    await new Promise((r) => setTimeout(r, 100))
  }
  const payload = (i) => ({ i, sku: `sku-${i % 1000}`, qty: i % 7, note: 'replicated event' })

  // 1. The primary alone.
  let s = Store.open({ dataDir: path.join(tmp, 'alone') })
  let t0 = performance.now()
  for (let i = 0; i < N; i++) s.append(new Coordinate(`order/${i % 1000}`, 'shop'), K, payload(i))
  row('primary appends, no replication', N, performance.now() - t0)
  s.close()

  // 1b. The NATS client alone: N bare 220-byte messages (msg id, expected last sequence, one
  // header, as the publisher sends) to an R3 stream of the same cluster, in windows of 512.
  {
    const { connect, headers } = require('@nats-io/transport-node')
    const { jetstream, jetstreamManager } = require('@nats-io/jetstream')
    const nc = await connect({ servers })
    const jsm = await jetstreamManager(nc)
    await jsm.streams.add({ name: 'raw', subjects: ['raw.events'], num_replicas: 3 })
    const js = jetstream(nc)
    const body = new Uint8Array(220)
    t0 = performance.now()
    for (let i = 0; i < N; i += 512) {
      const acks = []
      for (let j = i; j < Math.min(N, i + 512); j++) {
        const h = headers()
        h.set('Causeway-Sequence', String(j))
        acks.push(js.publish('raw.events', body, { msgID: `raw-${j}`, headers: h, expect: { lastSequence: j } }))
      }
      await Promise.all(acks)
    }
    row('NATS client alone: bare publishes to an R3 stream (no causeway)', N, performance.now() - t0)
    await nc.close()
  }

  // 2. Publishing a filled store.
  s = Store.open({ dataDir: path.join(tmp, 'primary') })
  for (let i = 0; i < N; i++) s.append(new Coordinate(`order/${i % 1000}`, 'shop'), K, payload(i))
  s.sync()
  t0 = performance.now()
  const pub = await replicate(s, { servers, stream: 'bench', window: WINDOW })
  await pub.waitFor(BigInt(N))
  row('publish a filled store (R3, acknowledged)', N, performance.now() - t0)

  // 3. Steady state: appends in slices of 100, the publisher following.
  const lags = []
  const sampler = setInterval(() => lags.push(pub.status().lag), 20)
  t0 = performance.now()
  for (let i = N; i < 2 * N; i += 100) {
    for (let j = i; j < i + 100; j++) s.append(new Coordinate(`order/${j % 1000}`, 'shop'), K, payload(j))
    await new Promise((r) => setImmediate(r))
  }
  const appended = performance.now() - t0
  await pub.waitFor(BigInt(2 * N))
  const total = performance.now() - t0
  clearInterval(sampler)
  lags.sort((a, b) => a - b)
  row('steady state: appends while publishing', N, appended, `all acknowledged after ${Math.round(total)} ms; lag p50 ${lags[lags.length >> 1] ?? 0}, max ${lags[lags.length - 1] ?? 0} events`)

  // 4. Replicated-durable: each append (durable: 'replicated') waits for its JetStream ack.
  const base = 2 * N
  t0 = performance.now()
  for (let i = 0; i < DURABLE_N; i++) {
    await s.append(new Coordinate(`order/${i % 1000}`, 'shop'), K, payload(i), { durable: 'replicated' })
  }
  row("replicated-durable appends (durable: 'replicated', one at a time)", DURABLE_N, performance.now() - t0)
  // 4b. The same with 16 callers in flight (a service's concurrent requests): one sync and one window of acks serve many.
  t0 = performance.now()
  let next = 0
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < DURABLE_N) {
      const i = next++
      await s.append(new Coordinate(`order/${i % 1000}`, 'shop'), K, payload(i), { durable: 'replicated' })
    }
  }))
  row("replicated-durable appends (durable: 'replicated', 16 in flight)", DURABLE_N, performance.now() - t0)
  await pub.close()
  const end = base + 2 * DURABLE_N

  // 5. A replica from an empty store.
  t0 = performance.now()
  const replica = await openReplica({ dataDir: path.join(tmp, 'replica'), servers, stream: 'bench' })
  await replica.waitFor(BigInt(end))
  row('replica catch-up from empty', end, performance.now() - t0)
  await replica.close()
  s.close()
} finally {
  for (const p of procs) p.kill('SIGKILL')
  fs.rmSync(tmp, { recursive: true, force: true })
}

console.log(`| figure | events | ms | events/s | notes |\n|---|--:|--:|--:|---|`)
for (const r of rows) console.log(`| ${r.name} | ${r.events} | ${r.ms} | ${r.rate.toLocaleString('en-US')} | ${r.extra} |`)
