import * as path from 'node:path'
import type { Command } from 'commander'
import { isCausewayError } from '../../index.js'
import { createToken, ROLES, type Role } from '../../server/tokens.js'
import { UsageError } from '../errors.js'

function roleList(v: string): Role[] {
  const roles = v.split(',').map((r) => r.trim()).filter((r) => r !== '')
  const bad = roles.find((r) => !ROLES.includes(r as Role))
  if (roles.length === 0 || bad !== undefined) throw new UsageError(`--roles takes a comma-separated list of ${ROLES.join(', ')}${bad ? `; got ${bad}` : ''}`)
  return roles as Role[]
}

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), ...v.split(',').map((s) => s.trim()).filter((s) => s !== '')]
}

export function tokenCommand(program: Command): void {
  const token = program.command('token').summary('manage the bearer tokens of causeway serve').description('Manage the bearer tokens of causeway serve.')
  token
    .command('create')
    .summary('make a token and add its hash to a tokens file')
    .description('Make a random token, print it once on stdout, and append its SHA-256 (never the token) to the tokens file (created with mode 0600).')
    .requiredOption('--roles <roles>', `comma-separated: ${ROLES.join(', ')} (admin includes read and append)`)
    .requiredOption('--tokens <file>', 'the tokens file (JSON lines; a JSON array file stays an array)')
    .option('--scope <scope>', 'restrict the token to this scope (repeatable, or comma-separated); default: every scope', collect)
    .option('--id <id>', 'a name for the token, shown in errors and logs (default: random)')
    .addHelpText(
      'after',
      `
The token is shown only now: the file keeps its hash. Send it as
"Authorization: Bearer <token>".

Examples:
  causeway token create --roles read,append --scope shop --tokens ./tokens.jsonl
  causeway token create --roles admin --id ops --tokens ./tokens.jsonl`,
    )
    .action((opts: { roles: string; tokens: string; scope?: string[]; id?: string }) => {
      const roles = roleList(opts.roles)
      try {
        const { token: secret } = createToken(path.resolve(opts.tokens), roles, opts.scope, opts.id)
        process.stdout.write(`${secret}\n`)
      } catch (e) {
        if (isCausewayError(e, 'E_INVALID_ARGUMENT')) throw new UsageError(e.message)
        throw e
      }
    })
}
