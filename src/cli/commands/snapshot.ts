import * as fs from 'node:fs'
import type { Command } from 'commander'
import { isCausewayError, type SnapshotReport, type Store } from '../../index.js'
import { checkSnapshotDest } from '../../ops/snapshot-dest.js'
import { UsageError } from '../errors.js'
import { jsonSafe, print, printJson, table } from '../output.js'
import { interactive } from '../progress.js'
import { FILE_MODE_HELP, fileMode } from '../parse.js'
import { existingStore, openStore, StoreInUseError } from '../store-dir.js'

export function snapshotCommand(program: Command): void {
  program
    .command('snapshot')
    .summary('write a consistent copy of a store')
    .description('Write a consistent copy of a store to a new directory (Store.snapshot).')
    .argument('<dir>', 'the store directory (beside a running writer, opened read-only)')
    .argument('<dest>', 'where the copy goes: a new or empty directory')
    .option('--json', 'print the report as one JSON document')
    .option('--file-mode <octal>', `of the snapshot (the store is opened with it): ${FILE_MODE_HELP}`, fileMode)
    .addHelpText(
      'after',
      `
The copy is a store of its own: open it, verify it (causeway verify <dest>),
or restore by pointing a service at it.

Examples:
  causeway snapshot ./data /backups/data-$(date +%F)
  causeway snapshot ./data ./copy --json | jq .report`,
    )
    .action(async (dir: string, dest: string, opts: { json?: boolean; fileMode?: number }) => {
      const abs = existingStore(dir)
      let to: string
      try {
        to = checkSnapshotDest(abs, dest)
      } catch (e) {
        if (!isCausewayError(e, 'E_INVALID_ARGUMENT')) throw e
        throw new UsageError(`${e.message}: the snapshot needs a directory of its own, outside the store`)
      }
      if (fs.existsSync(to) && (!fs.statSync(to).isDirectory() || fs.readdirSync(to).length > 0)) {
        throw new UsageError(`${dest} exists and is not an empty directory`)
      }
      const options = opts.fileMode === undefined ? {} : { fileMode: opts.fileMode }
      // With no writer, a writable open (it syncs first). Beside a running
      // writer, a read-only open: the copy holds every event the writer had
      // written when this open read the log, which is every event it had
      // synced then and maybe a few more (each frame CRC-checked, batches whole).
      const { store, live } = openForSnapshot(abs, options)
      try {
        if (interactive({ json: opts.json })) process.stderr.write(`writing snapshot of ${abs} to ${to}...\n`)
        const report: SnapshotReport = store.snapshot(to)
        if (opts.json) printJson({ dir: abs, dest: to, live, report })
        else {
          print(`snapshot of ${abs} written to ${to}${live ? ' (beside its running writer: what it had written when the snapshot began)' : ''}`)
          const rows = Object.entries(jsonSafe(report) as Record<string, unknown>)
          print(table(rows.map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)] as const), '  '))
        }
      } finally {
        store.close()
      }
    })
}

/**
 * The default open: beside a running writer it is that writer's client (the
 * writer syncs, and the copy holds what it had synced); where there is no
 * writer link (Windows), a read-only open beside it.
 */
function openForSnapshot(dir: string, options: { fileMode?: number }): { store: Store; live: boolean } {
  try {
    const store = openStore(dir, false, options)
    return { store, live: store.stats().role === 'client' }
  } catch (e) {
    if (!(e instanceof StoreInUseError)) throw e
    return { store: openStore(dir, true, options), live: true }
  }
}
