import type { Command } from 'commander'
import { prometheusText } from '../../metrics/prometheus.js'
import { bytesText, jsonSafe, print, printJson, table, typesText } from '../output.js'
import { existingStore, withStore } from '../store-dir.js'
import { projectionSnapshotStats } from '../../projection/snapshot-stats.js'

// Stats fields the human table prints in its own words; any other field (one
// a newer library adds) is printed after them as it comes. Each figure once.
const WORDED = new Set([
  'events', 'nextSequence', 'durableSequence', 'entities', 'scopes', 'segments', 'bytes', 'indexBytes',
  'lastSyncAt', 'syncs', 'syncErrors', 'recoveredTornBytes', 'openedFromCheckpoint', 'footersLoaded', 'indexFilesLoaded', 'indexFilesChecked', 'indexFiles', 'indexFileBytes', 'openMs', 'damage',
])

export function statsCommand(program: Command): void {
  program
    .command('stats')
    .summary('counts, sequences, segments and sizes')
    .description('Counts, sequences, segments and sizes of a store (opened read-only).')
    .argument('<dir>', 'the store directory')
    .option('--json', 'print one JSON document (sequences as decimal strings)')
    .option('--prometheus', "print the store's metrics in the Prometheus text format (this open's counters)")
    .addHelpText(
      'after',
      '\nExamples:\n  causeway stats ./data\n  causeway stats ./data --json | jq .events\n  causeway stats ./data --prometheus',
    )
    .action(async (dir: string, opts: { json?: boolean; prometheus?: boolean }) => {
      const abs = existingStore(dir)
      await withStore(abs, true, async (store) => {
        if (opts.prometheus) {
          process.stdout.write(await prometheusText(store.metrics(), { store: abs }))
          return
        }
        const d = store.diagnostics()
        const segmentFiles = d.segmentList.map((g) => ({
          name: g.file,
          bytes: g.bytes,
          baseSequence: g.baseSequence,
          nextSequence: g.nextSequence,
          state: g.active ? 'active' : g.sealed ? 'sealed' : 'open',
        }))
        const { segmentList: _list, dataDir: _dir, ...figures } = d
        const types = store.types.list().map((t) => ({ name: t.name, kind: t.kind.value, kindHex: t.kind.toString(), fingerprint: t.fingerprint }))
        const projectionSnapshots = projectionSnapshotStats(abs)
        if (opts.json) {
          printJson({ dir: abs, ...figures, types, segmentFiles, projectionSnapshots })
          return
        }
        const rows: Array<[string, string]> = [
          ['store', `${abs}${d.readOnly ? ' (opened read-only)' : ''}`],
          ['events', String(d.events)],
          ['sequences', d.nextSequence === 0n ? 'none yet' : `0..${d.nextSequence - 1n} (next ${d.nextSequence})`],
          ['durable below', `${d.durableSequence} (${d.unsyncedEvents} not yet known synced)`],
          ['entities', String(d.entities)],
          ['scopes', String(d.scopes)],
          ['types', types.length === 0 ? 'none defined' : `${types.length}: ${typesText(types.map((t) => ({ name: t.name, kind: t.kindHex })))}`],
          ['segments', `${d.segments} (${bytesText(d.bytes)} of log)`],
          ['index', `${bytesText(d.indexBytes)} in memory (${d.indexBytesPerEvent.toFixed(1)} bytes/event); ${d.indexFiles} sealed segments served by their index files (${bytesText(d.indexFileBytes)} mapped, ${d.indexFilesChecked} checked so far)`],
          ['last sync', d.lastSyncAt ? d.lastSyncAt.toISOString() : 'none in this open'],
          ['syncs', `${d.syncs} in this open (${d.syncErrors} failed)`],
          ['open', `${d.openMs.toFixed(1)} ms, index ${d.openedFromCheckpoint ? 'from the checkpoint' : 'rebuilt by a scan'}, ${d.footersLoaded} segment footers and ${d.indexFilesLoaded} index files loaded`],
          ['torn bytes cut', `${d.recoveredTornBytes} (a torn tail cut off by this open)`],
        ]
        if (d.damage.length > 0) rows.push(['damage', d.damage.join('; ')])
        rows.push(['projection snapshots', projectionSnapshotsText(projectionSnapshots)])
        const shown = new Set([...WORDED, 'readOnly', 'unsyncedEvents', 'indexBytesPerEvent'])
        for (const [k, v] of Object.entries(figures)) if (!shown.has(k)) rows.push([k, String(jsonSafe(v))])
        print(table(rows))
        print('segment files:')
        print(
          table(
            segmentFiles.map((g) => [g.name, `${bytesText(g.bytes)}, sequences ${g.baseSequence}..${g.nextSequence}, ${g.state}`] as const),
            '  ',
          ),
        )
      })
    })
}

function projectionSnapshotsText(p: ReturnType<typeof projectionSnapshotStats>): string {
  if (p.count === 0) return 'none'
  const each = p.files.map((f) => (f.name === null ? `${f.file} unusable (${f.invalid})` : `${f.name}@${f.version}: ${f.entities} entities, ${bytesText(f.bytes)}${f.current ? '' : ', stale'}`))
  return `${p.count} (${bytesText(p.bytes)}): ${each.join('; ')}`
}
