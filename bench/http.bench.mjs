#!/usr/bin/env node
// The service over HTTP: causeway/server against the same routes over
// fastify + better-sqlite3 (bench/http/baseline-server.mjs), side by side
// in one run. Each server runs in its own child process; this process is
// the load generator. Cases: single appends and batches of BENCH_BATCH,
// HTTP/1.1 keep-alive and HTTP/2 (TLS), 1 and 32 concurrent clients.
// Prints a table (median of the runs, with the min..max of the ratio);
// BENCH_JSON=<file> writes every measurement.
//
//   node bench/http.bench.mjs                       3 s a case, 3 runs
//   BENCH_SECONDS=1 BENCH_RUNS=1 node bench/http.bench.mjs
//   BENCH_FLOOR=1 node bench/http.bench.mjs         adds fastify without storage (the HTTP floor)
//   BENCH_LOADGEN=autocannon node bench/http.bench.mjs
//                                                   HTTP/1.1 cases driven by autocannon (a cheaper client)
//   BENCH_CASES=h1-append-32 BENCH_CPU_PROF=/tmp/prof node bench/http.bench.mjs
//                                                   one case, causeway server profiled
// Needs bench/node_modules (cd bench && npm install) for better-sqlite3.
import * as fs from 'node:fs'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { runFanout } from './http/fanout.mjs'
import { runLoad } from './http/load.mjs'
import { runAutocannon } from './http/autocannon-load.mjs'
import { startServer } from './http/servers.mjs'
import { selfSigned } from './http/tls.mjs'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const MAX_REQUESTS = Number(process.env.BENCH_MAX_REQUESTS ?? 1_000_000)
const BATCH = Number(process.env.BENCH_BATCH ?? 100)
const ONLY = process.env.BENCH_CASES?.split(',')
const CPU_PROF = process.env.BENCH_CPU_PROF
// BENCH_LOADGEN=autocannon: HTTP/1.1 cases driven by autocannon (HTTP/2 cases keep the node:http2 loop).
const LOADGEN = process.env.BENCH_LOADGEN ?? 'node'
if (LOADGEN !== 'node' && LOADGEN !== 'autocannon') throw new Error(`BENCH_LOADGEN must be node or autocannon, got ${LOADGEN}`)

const ENTITIES = 1000
const payload = { sku: 'A-1234', qty: 2, priceCents: 1999, note: 'gift wrap' }
const event = (c, i) => ({ entity: `order:${c}-${i % ENTITIES}`, scope: 'shop', type: 'order.placed', payload })
const appendBody = (c, i) => JSON.stringify(event(c, i))
const batchBody = (c, i) => JSON.stringify({ items: Array.from({ length: BATCH }, (_, k) => event(c, i * BATCH + k)) })

const cases = []
for (const protocol of ['h1', 'h2']) {
  for (const clients of [1, 32]) {
    cases.push({ id: `${protocol}-append-${clients}`, protocol, clients, path: '/v1/append', makeBody: appendBody, eventsPerRequest: 1 })
    cases.push({ id: `${protocol}-batch${BATCH}-${clients}`, protocol, clients, path: '/v1/batch', makeBody: batchBody, eventsPerRequest: BATCH })
  }
}
// SSE fan-out (BENCH_CASES=sse-fanout, or with every case): FANOUT_SUBSCRIBERS
// readers of GET /v1/live, FANOUT_EVENTS appends at FANOUT_RATE a second.
const FANOUT = { subscribers: Number(process.env.FANOUT_SUBSCRIBERS ?? 100), events: Number(process.env.FANOUT_EVENTS ?? 2000), rate: Number(process.env.FANOUT_RATE ?? 500) }
const fanoutSelected = !ONLY || ONLY.includes('sse-fanout')
const selected = ONLY ? cases.filter((k) => ONLY.includes(k.id)) : cases
if (selected.length === 0 && !fanoutSelected) throw new Error(`BENCH_CASES matched no case; cases: ${cases.map((k) => k.id).join(', ')}`)

const tls = selfSigned()
const token = `cw_${randomBytes(32).toString('base64url')}`
const config = { token, tls }
const sides = [
  { name: 'causeway', file: 'causeway-server.mjs', prof: CPU_PROF },
  { name: 'sqlite', file: 'baseline-server.mjs' },
  // BENCH_FLOOR=1: fastify with the same auth and no storage, to show what HTTP alone costs.
  ...(process.env.BENCH_FLOOR === '1' ? [{ name: 'floor', file: 'floor-server.mjs' }] : []),
]
const results = [] // { case, side, run, ... }
const fanouts = [] // { side, run, deliveredPerSec, p50ms, p99ms, missed }
const servers = {}
try {
  for (const s of sides) servers[s.name] = await startServer(s.file, config, { cpuProfDir: s.prof })
  for (let run = 0; run < RUNS; run++) {
    for (const k of selected) {
      // Alternate which side goes first, so neither always gets the warmer machine.
      const order = run % 2 === 0 ? sides : [...sides].reverse() // alternate the order
      for (const s of order) {
        const url = servers[s.name].urls[k.protocol]
        // Each measurement starts with the page cache written back, so neither side's writes
        // pay for the other's unwritten pages (SQLite's WAL with synchronous = NORMAL leaves many).
        spawnSync('sync')
        const cpu0 = await servers[s.name].cpuMicros()
        const run1 = LOADGEN === 'autocannon' && k.protocol === 'h1' ? runAutocannon : runLoad
        const r = await run1({ url, protocol: k.protocol, clients: k.clients, seconds: SECONDS, maxRequests: MAX_REQUESTS, token, ca: tls.cert, path: k.path, makeBody: k.makeBody, eventsPerRequest: k.eventsPerRequest })
        // Server CPU per append: what the server spends, whatever limits the client.
        r.serverCpuUsPerAppend = (await servers[s.name].cpuMicros() - cpu0) / Math.max(1, (r.requests - r.errors) * k.eventsPerRequest)
        results.push({ case: k.id, side: s.name, run, ...r })
        process.stderr.write(`  run ${run + 1} ${k.id.padEnd(18)} ${s.name.padEnd(9)} ${Math.round(r.appendsPerSec).toLocaleString('en').padStart(10)} appends/s  p50 ${r.p50ms.toFixed(2)} ms  p99 ${r.p99ms.toFixed(2)} ms  server ${r.serverCpuUsPerAppend.toFixed(1)} µs CPU/append  client ${r.clientCpuUsPerRequest.toFixed(0)} µs CPU/request${r.errors ? `  ${r.errors} errors (${r.firstError})` : ''}\n`)
      }
    }
    if (fanoutSelected) {
      for (const s of run % 2 === 0 ? sides : [...sides].reverse()) {
        if (s.name === 'floor') continue
        const r = await runFanout({ url: servers[s.name].urls.h1, token, ...FANOUT })
        fanouts.push({ side: s.name, run, ...r })
        process.stderr.write(`  run ${run + 1} sse-fanout-${FANOUT.subscribers}     ${s.name.padEnd(9)} ${Math.round(r.deliveredPerSec).toLocaleString('en').padStart(10)} deliveries/s  p50 ${r.p50ms.toFixed(2)} ms  p99 ${r.p99ms.toFixed(2)} ms  missed ${r.missed}\n`)
      }
    }
  }
} finally {
  for (const s of Object.values(servers)) await s.stop()
}

const median = (xs) => {
  const a = [...xs].sort((x, y) => x - y)
  return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2
}
const fmt = (n) => Math.round(n).toLocaleString('en')
const rows = [['case', 'causeway appends/s', 'sqlite appends/s', 'ratio (min..max)', 'causeway p50 / p99 ms', 'sqlite p50 / p99 ms', 'server CPU µs/append causeway / sqlite (sqlite ÷ causeway, min..max)', ...(servers.floor ? ['floor appends/s, CPU µs/append'] : [])]]
for (const k of selected) {
  const of = (side) => results.filter((r) => r.case === k.id && r.side === side)
  const cw = of('causeway')
  const sq = of('sqlite')
  const ratios = cw.map((r, i) => r.appendsPerSec / sq[i].appendsPerSec)
  const cpu = (a, b) => {
    const [x, y] = [median(a.map((r) => r.serverCpuUsPerAppend)), median(b.map((r) => r.serverCpuUsPerAppend))]
    const rs = a.map((r, i) => b[i].serverCpuUsPerAppend / r.serverCpuUsPerAppend)
    return `${x.toFixed(1)} / ${y.toFixed(1)} (${(y / x).toFixed(2)}x; ${Math.min(...rs).toFixed(2)}..${Math.max(...rs).toFixed(2)})`
  }
  const lat = (xs) => `${median(xs.map((r) => r.p50ms)).toFixed(2)} / ${median(xs.map((r) => r.p99ms)).toFixed(2)}`
  rows.push([k.id, fmt(median(cw.map((r) => r.appendsPerSec))), fmt(median(sq.map((r) => r.appendsPerSec))),
    `${median(ratios).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}..${Math.max(...ratios).toFixed(2)})`, lat(cw), lat(sq), cpu(cw, sq),
    ...(servers.floor ? [`${fmt(median(of('floor').map((r) => r.appendsPerSec)))}, ${median(of('floor').map((r) => r.serverCpuUsPerAppend)).toFixed(1)}`] : [])])
}
const table = [`| ${rows[0].join(' | ')} |`, `|${rows[0].map(() => '---').join('|')}|`, ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`)].join('\n')
if (selected.length > 0) console.log(`\nService over HTTP: ${SECONDS} s a case, ${RUNS} run(s), HTTP/1.1 load from ${LOADGEN === 'autocannon' ? 'autocannon' : 'node:http'}, median (ratio: causeway / sqlite, min..max over runs); batch = ${BATCH} events a request\n`)
if (selected.length > 0) console.log(table)
if (fanouts.length > 0) {
  const of = (side) => fanouts.filter((r) => r.side === side)
  const line = (side) => `${fmt(median(of(side).map((r) => r.deliveredPerSec)))} deliveries/s, p50 ${median(of(side).map((r) => r.p50ms)).toFixed(2)} ms, p99 ${median(of(side).map((r) => r.p99ms)).toFixed(2)} ms, missed ${of(side).map((r) => r.missed).join('/')}`
  console.log(`\nSSE fan-out, ${FANOUT.subscribers} subscribers, ${FANOUT.events} appends at ${FANOUT.rate}/s (HTTP/1.1), medians: causeway ${line('causeway')}; sqlite + broadcast ${line('sqlite')}`)
}
const errs = results.filter((r) => r.errors > 0)
if (errs.length > 0) console.log(`\n${errs.length} measurement(s) had errors, e.g. ${errs[0].side} ${errs[0].case}: ${errs[0].firstError}`)
if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, `${JSON.stringify({ seconds: SECONDS, runs: RUNS, batch: BATCH, results, fanouts }, null, 2)}\n`)
