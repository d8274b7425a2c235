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

/** `--expires`: an ISO 8601 date, or a duration from now: 30d, 12h, 45m. */
export function expiresAt(v: string, now = Date.now()): string {
  const m = /^(\d{1,6})([dhm])$/.exec(v.trim())
  if (m) return new Date(now + Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as 'd' | 'h' | 'm']).toISOString()
  const t = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : Number.NaN
  if (Number.isNaN(t)) throw new UsageError(`--expires takes an ISO 8601 date (2030-01-31, 2030-01-31T12:00:00Z) or a duration such as 30d, 12h, 45m; got ${v}`)
  if (t <= now) throw new UsageError(`--expires ${v} is in the past`)
  return v
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
    .option('--tag <tag>', 'restrict the token to events carrying this tag (repeatable, or comma-separated): it writes only such events and reads only them; default: any event', collect)
    .option('--id <id>', 'a name for the token, shown in errors and logs (default: random)')
    .option('--expires <when>', 'when the token stops working: an ISO 8601 date or a duration (30d, 12h, 45m); default: never')
    .addHelpText(
      'after',
      `
The token is shown only now: the file keeps its hash. Send it as
"Authorization: Bearer <token>".

Examples:
  causeway token create --roles read,append --scope shop --tokens ./tokens.jsonl
  causeway token create --roles read,append --tag tenant:acme --tokens ./tokens.jsonl
  causeway token create --roles admin --id ops --tokens ./tokens.jsonl
  causeway token create --roles read --expires 30d --tokens ./tokens.jsonl

A running causeway serve picks up a changed tokens file on SIGHUP.`,
    )
    .action((opts: { roles: string; tokens: string; scope?: string[]; tag?: string[]; id?: string; expires?: string }) => {
      const roles = roleList(opts.roles)
      const extra = { ...(opts.expires !== undefined ? { expiresAt: expiresAt(opts.expires) } : {}), ...(opts.tag ? { tags: opts.tag } : {}) }
      try {
        const { token: secret } = createToken(path.resolve(opts.tokens), roles, opts.scope, opts.id, extra)
        process.stdout.write(`${secret}\n`)
      } catch (e) {
        if (isCausewayError(e, 'E_INVALID_ARGUMENT') || isCausewayError(e, 'E_INVALID_TAG')) throw new UsageError(e.message)
        throw e
      }
    })
}
