// Operations: compaction under retention, a snapshot, a read-only view, diagnostics.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Coordinate, EventKind, Store } from 'causeway'

const dataDir = process.env.CAUSEWAY_DATA ?? mkdtempSync(join(tmpdir(), 'causeway-ops-'))
const Reading = EventKind.custom(5, 1)
const store = Store.open({ dataDir, segmentMaxBytes: 16 * 1024 })
for (let i = 0; i < 600; i++) store.append(new Coordinate(`sensor:${i % 4}`, 'plant'), Reading, { i, celsius: 20 + (i % 7) })
const before = store.diagnostics()
console.log(`${before.events} events in ${before.segments} segments, ${before.indexBytesPerEvent.toFixed(0)} index bytes per event`)

// Keep only every tenth reading in sealed segments; the active one is untouched.
const report = store.compact({ strategy: 'retention', keep: (e) => e.payload.i % 10 === 0 })
console.log(`compacted ${report.segmentsBefore} -> ${report.segmentsAfter} segments, dropped ${report.eventsDropped} events`)

const snapshotDir = join(mkdtempSync(join(tmpdir(), 'causeway-snapshot-')), 'copy')
const snap = store.snapshot(snapshotDir)
console.log(`snapshot holds every event below sequence ${snap.sequence} (${snap.linked} segment(s) hard-linked)`)
store.close()

const reader = Store.open({ dataDir, readOnly: true })
console.log(`read-only view: ${reader.stats().events} events, opened from checkpoint: ${reader.stats().openedFromCheckpoint}`)
reader.close()
rmSync(dirname(snapshotDir), { recursive: true, force: true })
