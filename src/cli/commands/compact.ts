import { Option, type Command } from 'commander'
import type { CompactionReport, CompactOptions, StoredEvent } from '../../index.js'
import { TYPE_KIND } from '../../types/registry.js'
import { UsageError } from '../errors.js'
import { KindSet, parseTime, type TypeLookup } from '../kinds.js'
import { count, jsonSafe, print, printJson, table } from '../output.js'
import { pages } from '../pages.js'
import { integer } from '../parse.js'
import { interactive, progress } from '../progress.js'
import { existingStore, withStore } from '../store-dir.js'

interface CompactOpts {
  strategy: CompactOptions['strategy']
  keepKinds?: string
  dropEntity?: string[]
  dropBefore?: string
  minSegments?: number
  dryRun?: boolean
  json?: boolean
}

/**
 * The keep predicate of the command line, checked before the store opens and
 * made once it is (--keep-kinds type names are the store's to resolve): an
 * event is dropped when it matches any drop rule; events of reserved kinds
 * (the store's own) are kept by --keep-kinds but not by the entity and time
 * rules, except the type registry's, which no rule drops (compaction keeps
 * them too; this keeps --dry-run's count honest).
 */
export function keepPredicate(o: CompactOpts): KeepRules | undefined {
  const kinds = o.keepKinds === undefined ? undefined : new KindSet(o.keepKinds)
  const prefixes = o.dropEntity ?? []
  const before = o.dropBefore === undefined ? undefined : parseTime(o.dropBefore)
  if (!kinds && prefixes.length === 0 && before === undefined) return undefined
  return {
    named: kinds?.named ?? false,
    predicate(types) {
      if (kinds?.named) kinds.resolve(types!)
      return (e) => keeps(e, kinds, prefixes, before)
    },
  }
}

/** The drop rules; a predicate once type names (if any) are looked up in the store's registry. */
export interface KeepRules {
  readonly named: boolean
  predicate(types: TypeLookup | undefined): (e: StoredEvent) => boolean
}

function keeps(e: StoredEvent, kinds: KindSet | undefined, prefixes: readonly string[], before: number | undefined): boolean {
  if (e.kind.value === TYPE_KIND.value) return true
  const entity = e.coordinate.entity
  if (prefixes.some((p) => entity === p || entity.startsWith(`${p}:`))) return false
  if (before !== undefined && e.timestampUs < before) return false
  if (kinds && !e.kind.reserved && !kinds.has(e.kind)) return false
  return true
}

function reportRows(report: CompactionReport): Array<[string, string]> {
  return Object.entries(jsonSafe(report) as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])
}

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v]
}

export function compactCommand(program: Command): void {
  program
    .command('compact')
    .summary('merge segments, or drop events by retention rules')
    .description('Rewrite sealed segments: merge small ones, or drop (retention) or blank (tombstone) events.')
    .argument('<dir>', 'the store directory (beside a running writer, that writer compacts it)')
    .addOption(
      new Option('--strategy <strategy>', 'merge: fewer, fuller segments, no event removed; retention: remove dropped events; tombstone: keep dropped events as tombstones without their payload')
        .choices(['merge', 'retention', 'tombstone'])
        .default('merge'),
    )
    .option('--keep-kinds <kinds>', 'keep only events of these kinds, e.g. order.placed,1:1,0x2001,3:* (a type name, or c:* for a whole category)')
    .option('--drop-entity <prefix>', 'drop the entity and every entity under it (order drops order and order:1); repeatable', collect)
    .option('--drop-before <time>', 'drop events older than this: ISO 8601 (2025-01-31) or an age (30d, 12h)')
    .option('--min-segments <n>', 'do nothing unless at least this many sealed segments qualify', integer(1, 1_000_000))
    .option('--dry-run', 'count what the rules would drop, changing nothing (read-only)')
    .option('--json', 'print the report as one JSON document')
    .addHelpText(
      'after',
      `
Drop rules (retention and tombstone need at least one; merge takes none):
  An event is dropped when any rule says so: --drop-entity, --drop-before,
  or a kind outside --keep-kinds. --keep-kinds never drops events of the
  reserved categories (0 system, 0xD effects), which the store writes itself,
  and no rule drops the type registry's entries. A --keep-kinds part not
  starting with a digit is a type name, looked up in the store's registry.
  Only sealed segments are rewritten: the active one (the newest) is not.
  --dry-run counts over every event, the active segment's too.
  Hash chains stay verifiable: a chain resumes after removed events, and a
  tombstone keeps its recorded hash (causeway verify tells both from damage).

Examples:
  causeway compact ./data
  causeway compact ./data --strategy retention --drop-before 90d --dry-run
  causeway compact ./data --strategy tombstone --drop-entity customer:42
  causeway compact ./data --strategy retention --keep-kinds 1:*,2:7
  causeway compact ./data --strategy retention --keep-kinds order.placed,order.shipped,1:*`,
    )
    .action(async (dir: string, opts: CompactOpts) => {
      const abs = existingStore(dir)
      const rules = keepPredicate(opts)
      if (opts.strategy === 'merge' && rules) throw new UsageError('--strategy merge drops nothing: the drop rules need --strategy retention or tombstone')
      if (opts.strategy !== 'merge' && !rules) {
        throw new UsageError(`--strategy ${opts.strategy} needs a drop rule: --keep-kinds, --drop-entity or --drop-before`)
      }
      if (opts.dryRun) {
        await withStore(abs, true, (store) => {
          const keep = rules?.predicate(store.types)
          const total = store.stats().events
          const bar = progress('scan', total, interactive({ json: opts.json }))
          let seen = 0
          let dropped = 0
          // Grouped by the entity's first name part: order:1 and order:2 count as "order".
          const byKind = new Map<string, number>()
          try {
            for (const page of pages(store)) {
              for (const e of page) {
                if (keep && !e.tombstoned && !keep(e)) {
                  dropped++
                  const k = e.coordinate.entity.split(':')[0]!
                  byKind.set(k, (byKind.get(k) ?? 0) + 1)
                }
              }
              seen += page.length
              bar.update(seen)
            }
          } finally {
            bar.stop()
          }
          const top = [...byKind].sort((a, b) => b[1] - a[1]).slice(0, 20)
          const r = { dryRun: true, strategy: opts.strategy, events: seen, wouldDrop: dropped, wouldKeep: seen - dropped, byEntityPrefix: Object.fromEntries(top) }
          if (opts.json) printJson(r)
          else {
            const verb = opts.strategy === 'tombstone' ? 'tombstone' : opts.strategy === 'retention' ? 'remove' : 'drop'
            print(`dry run: ${opts.strategy} would ${verb} ${dropped} of ${count(seen, 'event')} (nothing changed)`)
            print('  (compaction rewrites sealed segments only: events of the active segment stay until it is sealed)')
            if (top.length) print(table(top.map(([k, n]) => [k, String(n)] as const), '  '))
          }
        })
        return
      }
      // Type names are looked up in a read-only open first: a name the store has not is then a
      // usage error that leaves the store as it was (a writer's open touches its active segment).
      const keep = rules?.named ? await withStore(abs, true, (store) => rules.predicate(store.types)) : rules?.predicate(undefined)
      await withStore(abs, false, (store) => {
        const req: CompactOptions = { strategy: opts.strategy }
        if (keep) req.keep = keep
        if (opts.minSegments !== undefined) req.minSegments = opts.minSegments
        if (interactive({ json: opts.json })) process.stderr.write(`compacting ${abs} (${opts.strategy})...\n`)
        // Beside a running writer this process is its client: the writer compacts.
        const byWriter = store.stats().role === 'client'
        const report: CompactionReport = store.compact(req)
        if (opts.json) printJson({ strategy: opts.strategy, byWriter, report })
        else {
          print(`compacted ${abs} (${opts.strategy})${byWriter ? ' by its running writer' : ''}`)
          print(table(reportRows(report), '  '))
        }
      })
    })
}
