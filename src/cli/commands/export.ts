import * as fs from 'node:fs'
import * as path from 'node:path'
import { finished } from 'node:stream/promises'
import { Option, type Command } from 'commander'
import { Failure } from '../errors.js'
import { eventRecord, print, printJson, write } from '../output.js'
import { pages } from '../pages.js'
import { DEFAULT_FILE_MODE } from '../../options.js'
import { FILE_MODE_HELP, fileMode, sequence } from '../parse.js'
import { interactive, progress } from '../progress.js'
import { checkKindName, type RegionOpts, regionOf } from '../region-options.js'
import { existingStore, withStore } from '../store-dir.js'

interface ExportOpts extends RegionOpts {
  format: 'jsonl'
  out?: string
  from?: bigint
  json?: boolean
  fileMode?: number
}

export function exportCommand(program: Command): void {
  program
    .command('export')
    .summary('write events as JSON lines')
    .description('Write events as JSON lines, with their exact stored payload bytes, for causeway import or for tools.')
    .argument('<dir>', 'the store directory (opened read-only)')
    .addOption(new Option('--format <format>', 'output format').choices(['jsonl']).default('jsonl'))
    .option('-o, --out <file>', 'write to this file instead of stdout')
    .option('--entity <prefix>', 'only this entity and the entities under it')
    .option('--scope <scope>', 'only events in this scope')
    .option('--kind <kind>', 'only events of this kind: a type name (order.placed), 4097, 0x1001 or 1:1')
    .option('--from <sequence>', 'start at this global sequence', sequence)
    .option('--json', 'with --out: print a JSON summary (stdout carries the events otherwise)')
    .option('--file-mode <octal>', `with --out: ${FILE_MODE_HELP}`, fileMode)
    .addHelpText(
      'after',
      `
One event per line, in global-sequence order:
  {"eventId", "globalSequence" (decimal string), "coordinate": {"entity", "scope"},
   "kind" (packed u16), "kindHex", "type" (a named type), "clock",
   "timestampUs" (the record time), "occurredAtUs" (the event time, only when
   append was given occurredAt), "storedVersion" (only when not 1),
   "tags" (only when the event has any), "correlationId",
   "causationId" (or null), "contentHash", "prevHash",
   "payload" (decoded, for people: bytes as {"$base64"}),
   "payloadBytes" (the stored MessagePack, base64: what import appends),
   "tombstoned": true only for events whose payload compaction emptied}

Examples:
  causeway export ./data --format jsonl > events.jsonl
  causeway export ./data --entity order -o orders.jsonl
  causeway export ./data | causeway import - ./copy`,
    )
    .action(async (dir: string, opts: ExportOpts) => {
      const abs = existingStore(dir)
      const region = regionOf(opts)
      const from = opts.from ?? 0n
      const file = opts.out === undefined ? undefined : path.resolve(opts.out)
      await withStore(abs, true, async (store) => {
        checkKindName(opts, store.types)
        let stream: NodeJS.WritableStream = process.stdout
        if (file) {
          let fd: number
          try {
            fd = fs.openSync(file, 'w', opts.fileMode ?? DEFAULT_FILE_MODE) // the mode applies to a file it creates
          } catch (e) {
            throw new Failure(`cannot write ${file}: ${(e as Error).message}`)
          }
          stream = fs.createWriteStream(file, { fd })
          stream.on('error', () => {}) // reported by finished() below
        }
        const end = Number(store.stats().nextSequence)
        const bar = progress('export', end, file !== undefined && interactive({ json: opts.json }), 'sequences')
        let n = 0
        try {
          for (const page of pages(store, region, from)) {
            let chunk = ''
            for (const e of page) chunk += `${JSON.stringify(eventRecord(e, true))}\n`
            n += page.length
            await write(stream, chunk)
            bar.update(Number(page[page.length - 1]!.globalSequence) + 1)
          }
        } finally {
          bar.stop()
          if (file) {
            stream.end()
            try {
              await finished(stream as fs.WriteStream)
            } catch (e) {
              throw new Failure(`writing ${file}: ${(e as Error).message}`)
            }
          }
        }
        if (!file) return
        if (opts.json) printJson({ dir: abs, file, format: opts.format, events: n })
        else print(`exported ${n} events from ${abs} to ${file}`)
      })
    })
}
