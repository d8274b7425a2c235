// worker_threads safety: the addon is loaded by 4 workers at once, each opens
// its own store and appends in a loop, and the workers are terminated in the
// middle of that work. The process must survive, the main thread's own store
// must be untouched by the workers' teardown (per-environment addon data),
// and every terminated worker's directory must open again in the main thread
// at once, here and in another process (the environment cleanup closed its
// store and released its lock).
//
// The scenario runs in a child process so that a crash shows up as a signal
// and an exit code here, not as a lost test runner.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot, tempDir } from './helpers.js'

const entry = path.join(repoRoot, 'dist/cjs/index.js')

// Each worker: load the addon, open its own directory, append until terminated.
// Workers 0 and 1 append in a tight synchronous loop (terminate interrupts
// JavaScript or lands while a native call runs); workers 2 and 3 append from
// timers (terminate lands while the event loop is idle). Some appends are
// durable (a native call that blocks in fdatasync) and some are batches.
const WORKER = String.raw`
const { parentPort, workerData } = require('node:worker_threads')
const { Store, Coordinate, EventKind } = require(workerData.entry)
const store = Store.open({ dataDir: workerData.dir, sync: { everyMs: 1 } })
const c = new Coordinate('worker:' + workerData.i, 'test')
const k = EventKind.custom(1, 1)
let n = store.stream(c.entity).length
const start = n
parentPort.postMessage({ opened: n })
function one() {
  if (n % 50 === 7) {
    store.appendBatch([0, 1, 2].map((j) => ({ coord: c, kind: k, payload: { n: n + j } })))
    n += 3
  } else {
    store.append(c, k, { n, pad: 'x'.repeat(64) }, { durable: n % 100 === 0 })
    n += 1
  }
  if (n - start >= 300 && (n - start) % 25 < 3) parentPort.postMessage({ n })
}
if (workerData.i < 2) {
  for (;;) one()
} else {
  setInterval(() => { for (let j = 0; j < 20; j++) one() }, 0)
}
`

// The main thread of the child process: rounds of 4 workers on the same 4
// directories, so each round also reopens what the last one left.
const DRIVER = String.raw`
const { Worker } = require('node:worker_threads')
const { spawnSync } = require('node:child_process')
const path = require('node:path')
const [entry, base, rounds] = process.argv.slice(2)
const { Store, Coordinate, EventKind } = require(entry)
const dirs = [0, 1, 2, 3].map((i) => path.join(base, 'w' + i))
const k = EventKind.custom(1, 1)

// The main thread's own store stays open and busy throughout.
const mine = Store.open({ dataDir: path.join(base, 'main') })
const mc = new Coordinate('main', 'test')
let mainAppends = 0
const ticker = setInterval(() => { mine.append(mc, k, { n: mainAppends++ }) }, 1)

function runRound(round, immediate) {
  return new Promise((resolve, reject) => {
    const reported = [0, 0, 0, 0]
    const workers = dirs.map((dir, i) => new Worker(path.join(__dirname, 'worker.cjs'), { workerData: { entry, dir, i } }))
    let busy = 0
    const finish = async () => {
      // Terminate all four, a little apart, while they are working.
      await Promise.all(workers.map((w, i) => new Promise((r) => setTimeout(r, i * 3)).then(() => w.terminate())))
      resolve(reported)
    }
    workers.forEach((w, i) => {
      w.on('error', reject)
      if (immediate) w.once('online', () => { if (++busy === 4) finish() })
      w.on('message', (m) => {
        if (immediate || m.n === undefined) return
        const first = reported[i] === 0
        reported[i] = m.n
        if (first && ++busy === 4) finish()
      })
    })
  })
}

// Another process opens every directory for writing: it can only if the
// terminated workers' stores were closed (flock released) by the cleanup hook.
function openableElsewhere() {
  const script = 'const { Store } = require(' + JSON.stringify(entry) + ')\n' +
    'for (const d of ' + JSON.stringify(dirs) + ') Store.open({ dataDir: d }).close()'
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error('another process cannot open the directories: ' + r.stderr)
}

;(async () => {
  const out = []
  const before = dirs.map(() => 0)
  for (let round = 0; round < Number(rounds); round++) {
    // Round 0 terminates the workers as soon as they are online: mid-load of the addon or mid-open.
    const reported = await runRound(round, round === 0)
    openableElsewhere()
    const counts = []
    for (let i = 0; i < 4; i++) {
      const s = Store.open({ dataDir: dirs[i] }) // the terminated worker's lock is free at once
      const events = s.stream('worker:' + i)
      // Every event is there in clock order, payload n = clock - 1, nothing reported is missing.
      if (!events.every((e, j) => e.clock === j + 1 && e.payload.n === j)) throw new Error('events out of order in ' + dirs[i])
      if (events.length < reported[i] || events.length < before[i]) throw new Error('events lost in ' + dirs[i])
      if (typeof s.verifyChain === 'function') {
        const r = s.verifyChain()
        if (r.contentMismatches.length || r.brokenLinks.length) throw new Error('chain broken in ' + dirs[i])
      }
      before[i] = events.length
      counts.push(events.length)
      s.close()
    }
    out.push({ round, reported, counts })
  }
  clearInterval(ticker)
  // The main thread's store was never disturbed by the workers' teardown.
  mine.append(mc, k, { n: mainAppends++ })
  const mainEvents = mine.stream('main').length
  mine.close()
  console.log(JSON.stringify({ rounds: out, mainAppends, mainEvents }))
})().catch((e) => { console.error(e); process.exit(2) })
`

describe('worker_threads', () => {
  it('4 workers load the addon at once, are terminated mid-work, and the process and their locks survive', () => {
    const base = tempDir('workers')
    const script = path.join(base, 'driver.cjs')
    fs.writeFileSync(script, DRIVER)
    fs.writeFileSync(path.join(base, 'worker.cjs'), WORKER)
    const r = spawnSync(process.execPath, [script, entry, base, '4'], { encoding: 'utf8', timeout: 60_000 })
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' })
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      rounds: { round: number; reported: number[]; counts: number[] }[]
      mainAppends: number
      mainEvents: number
    }
    expect(res.rounds).toHaveLength(4)
    for (const round of res.rounds.slice(1)) {
      for (let i = 0; i < 4; i++) {
        expect(round.reported[i]).toBeGreaterThanOrEqual(300)
        expect(round.counts[i]).toBeGreaterThanOrEqual(round.reported[i]!)
      }
    }
    expect(res.mainEvents).toBe(res.mainAppends)
  })

  it('a wrapped store refuses a foreign receiver with a TypeError, never a crash', () => {
    const script = `
      const { native } = require(${JSON.stringify(path.join(repoRoot, 'dist/cjs/native.js'))})
      const p = native().NativeStore.prototype
      const out = []
      for (const m of ['stats', 'append', 'sync', 'close', 'query']) {
        for (const recv of [{}, Object.create(p), new Uint8Array(8)]) {
          try { p[m].call(recv, new Uint8Array(8), false); out.push(m + ':returned') } catch (e) { out.push(m + ':' + e.constructor.name) }
        }
      }
      console.log(JSON.stringify(out))
    `
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 })
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' })
    const out = JSON.parse(r.stdout.trim()) as string[]
    expect(out).toHaveLength(15)
    for (const o of out) expect(o).toMatch(/:TypeError$/)
  })
})
