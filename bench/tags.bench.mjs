#!/usr/bin/env node
// Tags and DCB queries, in one run. Part 1: 1,000,000 events carrying two
// tags each (1,000 distinct course tags, 3 term tags), then a one-tag query,
// a tags-AND query and a 2-item OR query served from the tag postings,
// each against the same answer from a full scan filtered in JS (every
// event read, its type and tags checked). Part 2: single appends with a
// numeric kind, a named type, and a named type with 2 tags, rounds rotating
// the case order (the bound: named types and tags cost at most 10%).
// Needs only the built package (npm run build).
//
//   node bench/tags.bench.mjs                 1,000,000 events; 100,000 single appends per case, 7 rounds
//   BENCH_EVENTS=200000 BENCH_APPENDS=50000 BENCH_ROUNDS=3 node bench/tags.bench.mjs
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

const { Store, Coordinate, EventKind, Query, Region } = await import('../dist/esm/index.mjs')

const N = Number(process.env.BENCH_EVENTS ?? 1_000_000)
const APPENDS = Number(process.env.BENCH_APPENDS ?? 100_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const INDEX_RUNS = Number(process.env.BENCH_INDEX_RUNS ?? 200)
const SCAN_RUNS = Number(process.env.BENCH_SCAN_RUNS ?? 3)
const COURSES = 1000
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (x, d = 1) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-bench-tags-'))

function part1() {
  const s = Store.open({ dataDir: path.join(root, 'tags'), sync: { mode: 'none' } })
  s.types.define('course.defined')
  s.types.define('student.enrolled')
  const t0 = performance.now()
  for (let b = 0; b < N; b += 10_000) {
    const n = Math.min(10_000, N - b)
    s.appendBatch(
      Array.from({ length: n }, (_, j) => {
        const i = b + j
        return {
          coord: new Coordinate(`student:s${i % 50_000}`, 'school'),
          kind: i % 10 === 0 ? 'course.defined' : 'student.enrolled',
          payload: { i },
          tags: [`course:c${(i * 7919) % COURSES}`, `term:${i % 3}`],
        }
      }),
    )
  }
  console.error(`appended ${N} tagged events in ${fmt((performance.now() - t0) / 1000)} s`)

  // [name, selection, the same test on one event for the scan]
  const cases = [
    ['one tag: `Query.items({ tags: [course:c42] })`', Query.items({ tags: ['course:c42'] }), (type, tags) => tags.includes('course:c42')],
    [
      'two tags AND: `Region.all().withTags(course:c42, term:2)`',
      Region.all().withTags('course:c42', 'term:2'),
      (type, tags) => tags.includes('course:c42') && tags.includes('term:2'),
    ],
    [
      '2-item OR: `{ types: [student.enrolled], tags: [course:c42] }, { tags: [course:c7, term:1] }`',
      Query.items({ types: ['student.enrolled'], tags: ['course:c42'] }, { tags: ['course:c7', 'term:1'] }),
      (type, tags) => (type === 'student.enrolled' && tags.includes('course:c42')) || (tags.includes('course:c7') && tags.includes('term:1')),
    ],
  ]
  const everything = Region.all()
  const rows = []
  for (const [name, sel, test] of cases) {
    const viaIndex = () => s.query(sel).map((e) => e.globalSequence)
    const viaScan = () => {
      const out = []
      for (const b of s.scan(everything, { batchSize: 65_536 })) {
        for (let i = 0; i < b.length; i++) {
          const e = b.event(i)
          if (test(e.type, e.tags)) out.push(e.globalSequence)
        }
      }
      return out
    }
    const a = viaIndex()
    const z = viaScan()
    if (a.length !== z.length || a.some((x, i) => x !== z[i])) throw new Error(`${name}: the index and the scan disagree`)
    const time = (runs, f) =>
      median(
        Array.from({ length: runs }, () => {
          const t = performance.now()
          f()
          return (performance.now() - t) * 1000
        }),
      )
    const idx = time(INDEX_RUNS, viaIndex)
    const scan = time(SCAN_RUNS, viaScan)
    rows.push([name, a.length, idx, scan])
    console.error(`  ${name}: ${a.length} events, index ${fmt(idx)} µs, scan ${fmt(scan)} µs`)
  }
  s.close()
  console.log(`\n| query over ${N.toLocaleString('en-US')} tagged events | matches | index µs (median of ${INDEX_RUNS}) | full scan + JS filter µs (median of ${SCAN_RUNS}) | index vs scan |`)
  console.log('|---|--:|--:|--:|--:|')
  for (const [name, n, idx, scan] of rows) console.log(`| ${name} | ${n} | ${fmt(idx)} | ${fmt(scan, 0)} | ${fmt(scan / idx, 0)}x faster |`)
}

function part2() {
  const coords = Array.from({ length: 1000 }, (_, i) => new Coordinate(`student:${i}`, 'school'))
  const payloads = Array.from({ length: 256 }, (_, i) => ({ studentId: `s${i}`, courseId: `c${i % 37}` }))
  const tagSets = Array.from({ length: 256 }, (_, i) => [`course:c${i % 37}`, `student:s${i}`])
  const cases = [
    { name: 'numeric kind', kind: () => EventKind.custom(1, 1), opts: () => undefined },
    { name: 'named type', kind: (s) => (s.types.define('student.enrolled'), 'student.enrolled'), opts: () => undefined },
    { name: 'named type + 1 tag', kind: (s) => (s.types.define('student.enrolled'), 'student.enrolled'), opts: (i) => ({ tags: [tagSets[i & 255][0]] }) },
    { name: 'named type + 2 tags', kind: (s) => (s.types.define('student.enrolled'), 'student.enrolled'), opts: (i) => ({ tags: tagSets[i & 255] }) },
  ]
  const once = (k, n) => {
    const dir = fs.mkdtempSync(path.join(root, 'run-'))
    const s = Store.open({ dataDir: dir, sync: { mode: 'none' } })
    const kind = k.kind(s)
    const t = performance.now()
    for (let i = 0; i < n; i++) s.append(coords[i % 1000], kind, payloads[i & 255], k.opts(i))
    const ms = performance.now() - t
    s.close()
    fs.rmSync(dir, { recursive: true, force: true })
    return (ms * 1e6) / n
  }
  for (const k of cases) once(k, Math.min(APPENDS, 20_000)) // warm-up
  const ns = new Map(cases.map((k) => [k, []]))
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < cases.length; i++) {
      const k = cases[(i + r) % cases.length] // rotate the order each round
      const v = once(k, APPENDS)
      ns.get(k).push(v)
      console.error(`  round ${r + 1} ${k.name.padEnd(22)} ${v.toFixed(0).padStart(6)} ns/event`)
    }
  }
  const base = median(ns.get(cases[0]))
  const best0 = Math.min(...ns.get(cases[0]))
  console.log(`\n${APPENDS.toLocaleString('en-US')} single appends per case, median of ${ROUNDS} rounds, Node ${process.version}, ${os.cpus().length} CPUs\n`)
  console.log('| case | ns/event (median) | events/s | vs numeric kind | best round ns/event | best vs best |')
  console.log('|---|--:|--:|--:|--:|--:|')
  for (const k of cases) {
    const m = median(ns.get(k))
    const b = Math.min(...ns.get(k))
    console.log(`| ${k.name} | ${m.toFixed(0)} | ${Math.round(1e9 / m).toLocaleString('en-US')} | ${(m / base).toFixed(2)}x | ${b.toFixed(0)} | ${(b / best0).toFixed(2)}x |`)
  }
}

try {
  if (process.env.BENCH_PART !== '2') part1()
  if (process.env.BENCH_PART !== '1') part2()
} finally {
  fs.rmSync(root, { recursive: true, force: true })
}
