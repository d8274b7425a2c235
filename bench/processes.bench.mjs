// Several processes, one store: events/s of appends in the writer process
// against the same appends from client processes, measured side by side in
// one run. Usage: node bench/processes.bench.mjs [events]
import { execFileSync, spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const N = Number(process.argv[2] || 50_000)

function proc(dir, mode, n, batch, tag) {
  const c = spawn(process.execPath, [path.join(here, 'processes/appender.cjs'), dir, mode, String(n), String(batch), tag], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = []
  let wait = null
  let buf = ''
  c.stdout.on('data', (d) => {
    buf += d
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      lines.push(buf.slice(0, i))
      buf = buf.slice(i + 1)
      if (wait) wait()
    }
  })
  const next = () => new Promise((r) => (lines.length ? r(lines.shift()) : (wait = () => { wait = null; r(lines.shift()) })))
  return { c, next, send: () => c.stdin.write('x\n') }
}

/** Events/s of `procs` processes appending at once; the first opens first (the writer). */
async function measure(label, mode, n, batch, clients, writerAppends) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-procs-'))
  const writer = proc(dir, mode, writerAppends ? n : 0, batch, 'w')
  if ((await writer.next()) !== 'ready writer') throw new Error('first process is not the writer')
  const cs = []
  for (let i = 0; i < clients; i++) {
    const c = proc(dir, mode, n, batch, `c${i}`)
    if ((await c.next()) !== 'ready client') throw new Error('not a client')
    cs.push(c)
  }
  const active = writerAppends ? [writer, ...cs] : cs
  const t0 = performance.now()
  for (const p of [writer, ...cs]) p.send()
  await Promise.all([writer, ...cs].map((p) => p.next()))
  const ms = performance.now() - t0
  for (const p of [...cs, writer]) p.send()
  await Promise.all([writer, ...cs].map((p) => new Promise((r) => p.c.once('exit', r))))
  fs.rmSync(dir, { recursive: true, force: true })
  const rate = (active.length * n) / (ms / 1000)
  console.log(`${label.padEnd(58)} ${Math.round(rate).toLocaleString('en').padStart(10)} events/s`)
  return rate
}

/** Events/s of one process reading every event of a filled store: the writer itself, or a client beside it. */
async function measureRead(label, n, inClient) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-procs-'))
  const writer = proc(dir, inClient ? 'hold' : 'fill', n, 1000, 'w')
  if ((await writer.next()) !== 'ready writer') throw new Error('first process is not the writer')
  const reader = inClient ? proc(dir, 'read', n, 1000, 'r') : writer
  if (inClient && (await reader.next()) !== 'ready client') throw new Error('not a client')
  reader.send()
  const [, ms, count] = (await reader.next()).split(' ')
  if (Number(count) !== n) throw new Error(`read ${count} events of ${n}`)
  if (inClient) {
    writer.send()
    await writer.next()
  }
  for (const p of inClient ? [reader, writer] : [writer]) p.send()
  await Promise.all((inClient ? [reader, writer] : [writer]).map((p) => new Promise((r) => p.c.once('exit', r))))
  fs.rmSync(dir, { recursive: true, force: true })
  const rate = n / (Number(ms) / 1000)
  console.log(`${label.padEnd(58)} ${Math.round(rate).toLocaleString('en').padStart(10)} events/s`)
  return rate
}

/** The machine's floor for durable appends sharing syncs (processes/sync-floor.mjs), in a process of its own. */
function syncFloor(label, writers, n) {
  const out = execFileSync(process.execPath, [path.join(here, 'processes/sync-floor.mjs'), String(writers), String(n)], { encoding: 'utf8' })
  const [rate, perSync] = out.trim().split(' ').map(Number)
  console.log(`${label.padEnd(58)} ${Math.round(rate).toLocaleString('en').padStart(10)} events/s (${perSync.toFixed(2)} per fdatasync)`)
  return rate
}

// Each round measures every pair side by side; the ratios are each round's,
// and the figures printed last are the medians over the rounds.
const ROUNDS = Number(process.env.ROUNDS || 3)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const rows = { w1: [], c1: [], wb: [], cb: [], d1: [], d4: [], f1: [], f4: [], rw: [], rc: [] }
const ratios = { singles: [], batches: [], durable: [], floor: [], reads: [] }
for (let r = 0; r < ROUNDS; r++) {
  console.log(`round ${r + 1} of ${ROUNDS}`)
  const w1 = await measure('single appends, in the writer process', 'plain', N, 1, 0, true)
  const c1 = await measure('single appends, one client process', 'plain', N, 1, 1, false)
  const wb = await measure('batches of 100, in the writer process', 'plain', N * 4, 100, 0, true)
  const cb = await measure('batches of 100, one client process', 'plain', N * 4, 100, 1, false)
  const d1 = await measure('durable single appends, the writer alone', 'durable', N / 25, 1, 0, true)
  const d4 = await measure('durable single appends, 4 processes (writer + 3 clients)', 'durable', N / 25, 1, 3, true)
  const f1 = syncFloor('floor: pwrite + shared fdatasync, 1 writer thread', 1, N / 25)
  const f4 = syncFloor('floor: pwrite + shared fdatasync, 4 writer threads', 4, N / 25)
  const rw = await measureRead('reads (scan, payloads decoded), in the writer process', N * 4, false)
  const rc = await measureRead('reads (scan, payloads decoded), in a client process', N * 4, true)
  Object.entries({ w1, c1, wb, cb, d1, d4, f1, f4, rw, rc }).forEach(([k, v]) => rows[k].push(v))
  ratios.reads.push(rc / rw)
  ratios.singles.push(c1 / w1)
  ratios.batches.push(cb / wb)
  ratios.durable.push(d4 / d1)
  ratios.floor.push(f4 / f1)
}
const f = (k) => Math.round(median(rows[k])).toLocaleString('en')
console.log(`medians of ${ROUNDS} rounds (events/s): writer singles ${f('w1')}, client singles ${f('c1')}; writer batches ${f('wb')}, client batches ${f('cb')}; durable 1 process ${f('d1')}, 4 processes ${f('d4')}; floor 1 writer ${f('f1')}, 4 writers ${f('f4')}; reads in the writer ${f('rw')}, in a client ${f('rc')}`)
console.log(`client/writer: singles ${median(ratios.singles).toFixed(2)}x, batches ${median(ratios.batches).toFixed(2)}x; durable 4 processes / 1: ${median(ratios.durable).toFixed(2)}x (the floor's 4 writers / 1: ${median(ratios.floor).toFixed(2)}x); client/writer reads: ${median(ratios.reads).toFixed(2)}x`)
