// Projection snapshots and automatic maintenance: a projection's state
// survives a reopen (only newer events are applied), and the writer compacts
// and snapshots itself in the background.
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Coordinate, EventKind, Store } from 'causeway'

const Reading = EventKind.custom(1, 1)
const dataDir = process.env.CAUSEWAY_DATA ?? mkdtempSync(join(tmpdir(), 'causeway-read-models-'))
const backups = mkdtempSync(join(tmpdir(), 'causeway-backups-'))
const meter = new Coordinate('meter:7', 'plant')

// States are stored as MessagePack: plain objects, arrays, numbers, strings, bigints, Dates, Sets.
const usage = {
  name: 'usage',
  version: 1,
  init: () => ({ kwh: 0, readings: 0 }),
  apply: (s, e) => ({ kwh: s.kwh + e.payload.kwh, readings: s.readings + 1 }),
}

const segmentMaxBytes = 16 * 1024 // small segments, so this example seals some
let store = Store.open({ dataDir, segmentMaxBytes, projectionSnapshots: { every: 500 } })
for (let i = 0; i < 1000; i++) store.append(meter, Reading, { kwh: 1 })
console.log(`first fold applied ${store.project(meter, usage).eventsApplied} events`)
store.close() // writes the snapshot

store = Store.open({
  dataDir,
  segmentMaxBytes,
  projectionSnapshots: true,
  maintenance: {
    checkEveryMs: 20,
    // Zero readings are dropped once 2 segments are sealed.
    compact: { when: { sealedSegments: 2 }, strategy: 'retention', keep: (e) => e.payload.kwh > 0 },
    snapshot: { every: 100, to: backups, keep: 2 },
  },
})
store.append(meter, Reading, { kwh: 2 })
const r = store.project(meter, usage)
console.log(`after reopen: ${r.state.kwh} kWh, applied ${r.eventsApplied} new event (cache hit: ${r.cacheHit})`)

for (let i = 0; i < 400; i++) store.append(meter, Reading, { kwh: 0 }) // zero readings: dropped by maintenance
for (let t = 0; t < 500 && (store.metrics().maintenance.compactions === 0 || store.metrics().maintenance.snapshots < 3); t++) {
  await new Promise((done) => setTimeout(done, 20))
}
const m = store.metrics().maintenance
console.log(`maintenance compacted: ${m.eventsDropped > 0 ? 'zero readings dropped' : 'nothing dropped'}`)
console.log(`snapshots taken: ${m.snapshots >= 3 ? '3 or more' : m.snapshots}, kept: ${readdirSync(backups).length}`)
store.close()
