// Run by bench/features.bench.mjs in a fresh process (node --expose-gc):
// opens a closed causeway store once and prints one JSON line with the open
// time (wall clock around Store.open, and stats().openMs), whether the index
// came from the checkpoint, the index size and the resident memory the open
// added. Whether index.ckpt exists is up to the caller.
//   node --expose-gc bench/lib/open-ckpt-probe.mjs <dir>
import { gc, now, residentMemory } from './workload.mjs'

const { Store } = await import('../../dist/esm/index.mjs')

const dir = process.argv[2]
if (!dir) {
  console.error('usage: open-ckpt-probe.mjs <dir>')
  process.exit(2)
}

gc()
const m0 = residentMemory()
const t = now()
const s = Store.open({ dataDir: dir })
const wallMs = now() - t
gc()
const m1 = residentMemory()
const st = s.stats()
s.close()
process.stdout.write(
  JSON.stringify({
    wallMs,
    openMs: st.openMs,
    openedFromCheckpoint: st.openedFromCheckpoint,
    events: st.events,
    indexBytes: st.indexBytes,
    rssDelta: m1.rss - m0.rss,
    anonDelta: m1.anon - m0.anon,
    fileDelta: m1.file - m0.file,
  }) + '\n',
)
