// worker_threads safety, driven from test/workers.test.ts (and, under Wine,
// test/windows.test.ts): rounds of 4 workers (worker.cjs) on the same 4
// directories, so each round also reopens what the last one left.
//
//   node driver.cjs <causeway entry> <base dir> <rounds>
'use strict'
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
