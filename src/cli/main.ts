// The causeway command line: `causeway <command> --help` for each command.
// Commands live in ./commands, one per file; this file wires them to
// commander and turns failures into messages and exit codes (see errors.ts).
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Command, CommanderError } from 'commander'
import { isCausewayError } from '../index.js'
import { compactCommand } from './commands/compact.js'
import { exportCommand } from './commands/export.js'
import { importCommand } from './commands/import.js'
import { replicateCommand } from './commands/replicate.js'
import { serveCommand } from './commands/serve.js'
import { snapshotCommand } from './commands/snapshot.js'
import { statsCommand } from './commands/stats.js'
import { tailCommand } from './commands/tail.js'
import { tokenCommand } from './commands/token.js'
import { verifyCommand } from './commands/verify.js'
import { viewCommand } from './commands/view.js'
import { walkCommand } from './commands/walk.js'
import { Exit, Failure, UsageError } from './errors.js'

function version(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(__dirname, '../../../package.json'), 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

export function program(): Command {
  const p = new Command('causeway')
    .description('Operate causeway event stores: inspect, verify, compact, snapshot, tail, export, import, audit.')
    .version(version(), '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .configureHelp({ sortSubcommands: false, showGlobalOptions: false })
    .addHelpText(
      'after',
      `
Read commands (stats, verify, tail, export, walk) open the store read-only
and change no byte; compact and snapshot need the store to themselves (stop
the writer first); import appends. serve runs the store as an HTTP service
(causeway/server, needs fastify); token create makes its bearer tokens.

Long work draws a progress bar on stderr when run at a terminal; piped or
with --json, the output is only the result.

Exit codes: 0 done, 1 damage found or the work failed, 2 wrong usage.`,
    )
  for (const add of [statsCommand, verifyCommand, compactCommand, snapshotCommand, tailCommand, exportCommand, importCommand, walkCommand, serveCommand, tokenCommand, viewCommand, replicateCommand]) add(p)
  // Commander reports its own errors and help; we decide the exit code.
  p.exitOverride()
  const override = (c: Command): void => {
    c.exitOverride()
    c.commands.forEach(override)
  }
  p.commands.forEach(override)
  return p
}

/** Runs the CLI on `argv` (as process.argv: node, script, ...args); resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  process.exitCode = undefined
  try {
    await program().parseAsync([...argv])
    return typeof process.exitCode === 'number' ? process.exitCode : Exit.ok
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return Exit.ok
      return Exit.usage // commander has printed the message
    }
    if (e instanceof UsageError) {
      process.stderr.write(`causeway: ${e.message}\n(add --help for usage)\n`)
      return Exit.usage
    }
    if (e instanceof Failure) {
      process.stderr.write(`causeway: ${e.message}\n`)
      return Exit.failure
    }
    if (isCausewayError(e)) {
      process.stderr.write(`causeway: ${e.code}: ${e.message}\n`)
      return Exit.failure
    }
    throw e
  }
}

/** The bin entry: runs main and sets the process's exit code (output drains before exit). */
export function run(argv: readonly string[] = process.argv): void {
  // A reader that went away (`causeway export ... | head`) is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw e
  })
  main(argv).then(
    (code) => {
      process.exitCode = code
    },
    (e: unknown) => {
      process.stderr.write(`causeway: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
      process.exitCode = Exit.failure
    },
  )
}
