// `causeway view rebuild|status <dir> <name> --module <file>`. A view's
// apply is JavaScript, so the command loads the definitions from a module
// the caller names: it exports `views` (or, as its default export, an
// object) mapping each view name to its definition, built with the same
// causeway package the CLI runs from.
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Command } from 'commander'
import type { Store, ViewDefinition, ViewStatus } from '../../index.js'
import { checkViewName } from '../../views/definition.js'
import { UsageError } from '../errors.js'
import { count, print, printJson, table } from '../output.js'
import { interactive, progress } from '../progress.js'
import { existingStore, withStore } from '../store-dir.js'

interface ViewOpts {
  module: string
  json?: boolean
}

/** The definition of `name` in the module at `file`. */
export async function loadDefinition(file: string, name: string): Promise<ViewDefinition> {
  let mod: Record<string, unknown>
  try {
    mod = (await import(pathToFileURL(path.resolve(file)).href)) as Record<string, unknown>
  } catch (e) {
    throw new UsageError(`cannot load the view module ${file}: ${e instanceof Error ? e.message : String(e)}`)
  }
  const dflt = mod.default as Record<string, unknown> | undefined
  const views = (mod.views ?? dflt?.views ?? dflt) as Record<string, unknown> | undefined
  if (typeof views !== 'object' || views === null) throw new UsageError(`${file} exports no views: export { views: { name: definition } }`)
  const def = Object.hasOwn(views, name) ? views[name] : undefined
  if (typeof def !== 'object' || def === null) {
    throw new UsageError(`${file} defines no view ${name}; it defines: ${Object.keys(views).join(', ') || 'none'}`)
  }
  return def as ViewDefinition
}

function statusRows(s: ViewStatus): Array<[string, string]> {
  const rows: Array<[string, string]> = [
    ['view', `${s.name} version ${s.version} (${s.storage})`],
    ['position', `${s.position} of ${s.end} (lag ${s.lag})`],
    ['keys', String(s.size)],
  ]
  if (s.resetOnOpen) rows.push(['emptied on open', s.resetOnOpen])
  return rows
}

async function withView<T>(dir: string, name: string, opts: ViewOpts, f: (store: Store, def: ViewDefinition) => T): Promise<T> {
  const abs = existingStore(dir)
  checkViewName(name)
  const def = await loadDefinition(opts.module, name)
  // Read-only: a view writes its own files, never the log, so this runs beside the writer.
  return withStore(abs, true, (store) => f(store, def))
}

export function viewCommand(program: Command): void {
  const view = program
    .command('view')
    .summary('rebuild or inspect a materialised view')
    .description('Rebuild or inspect a view (store.view) kept under <dir>/views/<name>/. Its definition comes from --module.')
    .addHelpText(
      'after',
      `
The module (ESM or CommonJS) exports \`views\`, an object of view name ->
definition { query, version, init, apply, key? }, made with the causeway
package this CLI runs from.

Examples:
  causeway view rebuild ./data orders-by-customer --module ./views.mjs
  causeway view status ./data orders-by-customer --module ./views.mjs --json`,
    )
  viewArgs(view.command('rebuild'), 'Empty the view and fold the whole log into it again (the store is opened read-only).')
    .action(async (dir: string, name: string, opts: ViewOpts) => {
      await withView(dir, name, opts, (store, def) => {
        const v = store.view(name, def)
        let bar: ReturnType<typeof progress> | undefined
        const r = v.rebuild({
          onProgress: (p) => {
            bar ??= progress('rebuild', Number(p.end), interactive(opts))
            bar.update(Number(p.position))
          },
        })
        bar?.stop()
        const s = v.status()
        if (opts.json) return printJson({ rebuilt: name, applied: r.applied, ...s })
        print(`rebuilt view ${name}: ${count(r.applied, 'event')} folded\n${table(statusRows(s), '  ')}`)
      })
    })
  viewArgs(view.command('status'), 'Where the view stands: position, lag and keys (it is not brought up to date).')
    .action(async (dir: string, name: string, opts: ViewOpts) => {
      await withView(dir, name, opts, (store, def) => {
        const s = store.view(name, def).status()
        if (opts.json) return printJson(s)
        print(table(statusRows(s)))
      })
    })
}

/** What both subcommands take: the store, the view's name, the module defining it, --json. */
function viewArgs(cmd: Command, description: string): Command {
  return cmd
    .description(description)
    .argument('<dir>', 'the store directory')
    .argument('<name>', 'the view name')
    .requiredOption('--module <file>', 'a module exporting `views` (name -> definition)')
    .option('--json', 'print one JSON document')
}
