import * as fs from 'node:fs'
import * as path from 'node:path'
import type { Command } from 'commander'
import type { Diagnostics } from '../../index.js'
import { bytesText, jsonSafe, print, printJson, table } from '../output.js'
import { existingStore, segmentNames, withStore } from '../store-dir.js'

export function statsCommand(program: Command): void {
  program
    .command('stats')
    .summary('counts, sequences, segments and sizes')
    .description('Counts, sequences, segments and sizes of a store (opened read-only).')
    .argument('<dir>', 'the store directory')
    .option('--json', 'print one JSON document (sequences as decimal strings)')
    .addHelpText('after', '\nExamples:\n  causeway stats ./data\n  causeway stats ./data --json | jq .events')
    .action(async (dir: string, opts: { json?: boolean }) => {
      const abs = existingStore(dir)
      await withStore(abs, true, (store) => {
        const s = store.stats()
        const segments = segmentNames(abs).map((name) => ({ name, bytes: fs.statSync(path.join(abs, name)).size }))
        const diagnostics: Diagnostics = store.diagnostics()
        if (opts.json) {
          printJson({ dir: abs, ...s, segmentFiles: segments, diagnostics })
          return
        }
        const known = new Set(Object.keys(s))
        const rows: Array<[string, string]> = [
          ['store', abs],
          ['events', String(s.events)],
          ['sequences', s.nextSequence === 0n ? 'none yet' : `0..${s.nextSequence - 1n} (next ${s.nextSequence})`],
          ['durable below', String(s.durableSequence)],
          ['entities', String(s.entities)],
          ['scopes', String(s.scopes)],
          ['segments', `${s.segments} (${bytesText(s.bytes)} of log)`],
          ['index', `${bytesText(s.indexBytes)} in memory`],
          ['last sync', s.lastSyncAt ? s.lastSyncAt.toISOString() : 'none in this open'],
          ['syncs', `${s.syncs} in this open (${s.syncErrors} failed)`],
          ['torn bytes cut', `${s.recoveredTornBytes} (a torn tail cut off by this open)`],
        ]
        for (const k of ['events', 'nextSequence', 'durableSequence', 'entities', 'scopes', 'segments', 'bytes', 'indexBytes', 'lastSyncAt', 'recoveredTornBytes', 'syncs', 'syncErrors']) {
          known.delete(k)
        }
        // Fields added by newer versions of the library, printed as they come.
        for (const k of known) rows.push([k, String(jsonSafe((s as unknown as Record<string, unknown>)[k]))])
        print(table(rows))
        print('segment files:')
        print(table(segments.map((g) => [g.name, bytesText(g.bytes)] as const), '  '))
        print('diagnostics:')
        print(
          table(
            Object.entries(jsonSafe(diagnostics) as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)] as const),
            '  ',
          ),
        )
      })
    })
}
