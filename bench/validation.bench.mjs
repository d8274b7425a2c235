#!/usr/bin/env node
// Per-event cost of named types and schema validation on single appends, in
// one run: a numeric kind (the baseline), a named type without a schema, a
// named type with a zod schema and one with a JSON Schema (ajv). Needs the
// built package and the root devDependencies (zod, ajv); not bench/node_modules.
// Background syncs are off (sync.mode 'none') so that disk noise does not
// drown a difference of tens of nanoseconds; the rounds rotate the case order
// and both the median and the best round are reported.
//
//   node bench/validation.bench.mjs              100,000 events per case, 9 rounds
//   BENCH_EVENTS=50000 BENCH_ROUNDS=3 node bench/validation.bench.mjs
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import Ajv from 'ajv'
import { z } from 'zod'

const { Store, Coordinate, EventKind } = await import('../dist/esm/index.mjs')

const N = Number(process.env.BENCH_EVENTS ?? 100_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9)
const coords = Array.from({ length: 1000 }, (_, i) => new Coordinate(`order:${i}`, 'shop'))
const payloads = Array.from({ length: 256 }, (_, i) => ({ sku: `A-${i}`, qty: 1 + (i % 9), price: 1.25 * i, customer: `c${i}@example.com` }))
const zodSchema = z.object({ sku: z.string(), qty: z.number().int().positive(), price: z.number(), customer: z.string() })
const jsonSchema = {
  type: 'object',
  required: ['sku', 'qty', 'price', 'customer'],
  properties: { sku: { type: 'string' }, qty: { type: 'integer', minimum: 1 }, price: { type: 'number' }, customer: { type: 'string' } },
}

const cases = [
  { name: 'numeric kind, no schema', define: () => EventKind.custom(1, 1) },
  { name: 'named type, no schema', define: (s) => (s.types.define('order.placed'), 'order.placed') },
  { name: 'named type, zod schema', define: (s) => (s.types.define('order.placed', { schema: zodSchema }), 'order.placed') },
  { name: 'named type, JSON Schema (ajv)', define: (s) => (s.types.define('order.placed', { schema: jsonSchema }), 'order.placed') },
]

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-bench-validation-'))
function once(k, n) {
  const dir = fs.mkdtempSync(path.join(root, 'run-'))
  const s = Store.open({ dataDir: dir, sync: { mode: 'none' } })
  const kind = k.define(s)
  const t = performance.now()
  for (let i = 0; i < n; i++) s.append(coords[i % 1000], kind, payloads[i & 255])
  const ms = performance.now() - t
  s.close()
  fs.rmSync(dir, { recursive: true, force: true })
  return (ms * 1e6) / n // ns per event
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
try {
  for (const k of cases) once(k, Math.min(N, 20_000)) // warm-up
  const ns = new Map(cases.map((k) => [k, []]))
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < cases.length; i++) {
      const k = cases[(i + r) % cases.length] // rotate the order each round
      const v = once(k, N)
      ns.get(k).push(v)
      process.stderr.write(`  round ${r + 1} ${k.name.padEnd(32)} ${v.toFixed(0).padStart(6)} ns/event\n`)
    }
  }
  // The validators alone, outside the store, for scale.
  const ajvValidate = new Ajv({ strict: false }).compile(jsonSchema)
  const alone = (f) => {
    const t = performance.now()
    for (let i = 0; i < N; i++) f(payloads[i & 255])
    return ((performance.now() - t) * 1e6) / N
  }
  const zodAlone = median(Array.from({ length: ROUNDS }, () => alone((p) => zodSchema['~standard'].validate(p))))
  const ajvAlone = median(Array.from({ length: ROUNDS }, () => alone((p) => ajvValidate(p))))

  const base = median(ns.get(cases[0]))
  console.log(`\n${N} single appends per case, median of ${ROUNDS} rounds, Node ${process.version}, ${os.cpus().length} CPUs\n`)
  const best0 = Math.min(...ns.get(cases[0]))
  console.log('| case | ns/event (median) | events/s | vs numeric kind | best round ns/event | best vs best |')
  console.log('|---|--:|--:|--:|--:|--:|')
  for (const k of cases) {
    const m = median(ns.get(k))
    const b = Math.min(...ns.get(k))
    console.log(
      `| ${k.name} | ${m.toFixed(0)} | ${Math.round(1e9 / m).toLocaleString('en-US')} | ${(m / base).toFixed(2)}x | ${b.toFixed(0)} | ${(b / best0).toFixed(2)}x |`,
    )
  }
  console.log(`\nvalidators alone: zod ${zodAlone.toFixed(0)} ns/event, ajv ${ajvAlone.toFixed(0)} ns/event`)
} finally {
  fs.rmSync(root, { recursive: true, force: true })
}
