// Run by the suite in a fresh process (node --expose-gc), after a
// contender's append run is closed: reopens the store three times and
// reports the open times and, for the first open, the resident memory it
// added. Prints one JSON line.
//   node --expose-gc bench/lib/open-probe.mjs <contender-id> <dir>
import { byId } from './contenders.mjs'
import { gc, median, now, residentMemory } from './workload.mjs'

const [id, dir] = process.argv.slice(2)
const c = byId[id]
if (!c || !dir) {
  console.error('usage: open-probe.mjs <contender-id> <dir>')
  process.exit(2)
}

gc()
const m0 = residentMemory()
let t = now()
let h = c.reopen(dir)
const first = now() - t
gc()
const m1 = residentMemory()
const stats = c.reopenedStats(h)
await c.closeReopened(h)

const times = [first]
for (let i = 0; i < 2; i++) {
  t = now()
  h = c.reopen(dir)
  times.push(now() - t)
  await c.closeReopened(h)
}

process.stdout.write(
  JSON.stringify({
    openMs: median(times),
    openRuns: times,
    events: stats.events,
    indexBytes: stats.indexBytes ?? null,
    rssDelta: m1.rss - m0.rss,
    anonDelta: m1.anon - m0.anon,
    fileDelta: m1.file - m0.file,
  }) + '\n',
)
