/**
 * Bearer tokens of the service. A token is a random secret shown once (by
 * `causeway token create`); the tokens file keeps only its SHA-256, so a
 * leaked file grants nothing. Lookups hash the presented token and compare
 * hashes with crypto.timingSafeEqual against every entry, so neither the
 * comparison nor the number of entries tried depends on how much of a
 * guess was right.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { InvalidArgumentError } from '../errors.js'
import { checkTags } from '../event-ext.js'

export type Role = 'read' | 'append' | 'admin'
export const ROLES: readonly Role[] = ['read', 'append', 'admin']

/** One entry of a tokens file: the token's id (for logs), the hash of its secret, its roles, scopes and tags. */
export interface TokenEntry {
  id: string
  /** 'sha256:' and 64 lowercase hex digits: the SHA-256 of the token's UTF-8 text. */
  hash: string
  roles: Role[]
  /** The scopes the token may read and write; absent: every scope. */
  scopes?: string[]
  /** The tags the token's events carry: it may write only events carrying one of them, and read only such events; absent: any. */
  tags?: string[]
  /** When the token stops being accepted (an ISO 8601 date); absent: never. */
  expiresAt?: string
  /** This token's own rate limit, instead of the server's. */
  rateLimit?: TokenRateLimit
}

/** At most `max` requests per `timeWindowMs` milliseconds. */
export interface TokenRateLimit {
  max: number
  timeWindowMs: number
}

/** Who a request is: the token it presented (or the loopback principal of insecureLocal). */
export interface Principal {
  id: string
  roles: ReadonlySet<Role>
  /** undefined: every scope. */
  scopes: ReadonlySet<string> | undefined
  /** undefined: any event; else only events carrying one of these tags. */
  tags?: ReadonlySet<string> | undefined
  /** The token's own rate limit, if its entry has one. */
  rateLimit?: TokenRateLimit
}

/** What the presented token is: a principal, an expired entry, or nothing known. */
/** A valid token's principal and until when it holds (ms since the epoch; Infinity without expiresAt), or why none. */
export type TokenMatch = { principal: Principal; untilMs: number } | { expired: { id: string; at: string } } | undefined

const HASH_RE = /^sha256:[0-9a-f]{64}$/

export function hashToken(token: string): string {
  return `sha256:${createHash('sha256').update(token, 'utf8').digest('hex')}`
}

/** A new random token: 32 bytes from the CSPRNG, base64url, with a prefix that secret scanners can spot. */
export function newToken(): string {
  return `cw_${randomBytes(32).toString('base64url')}`
}

function checkEntry(e: unknown, where: string): TokenEntry {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new InvalidArgumentError(`${where}: a token entry must be an object { id, hash, roles, scopes?, tags? }`)
  const { id, hash, roles, scopes, tags, expiresAt, rateLimit, ...rest } = e as Record<string, unknown>
  const extra = Object.keys(rest)
  if (extra.length > 0) throw new InvalidArgumentError(`${where}: unknown key '${extra[0]}'; accepted: id, hash, roles, scopes, tags, expiresAt, rateLimit`)
  if (typeof id !== 'string' || id.length === 0) throw new InvalidArgumentError(`${where}: id must be a non-empty string`)
  // A plain-text token in the file would be a secret at rest: only hashes are accepted.
  if (typeof hash !== 'string' || !HASH_RE.test(hash)) throw new InvalidArgumentError(`${where}: hash must be 'sha256:' and 64 lowercase hex digits`)
  if (!Array.isArray(roles) || roles.length === 0 || !roles.every((r) => ROLES.includes(r as Role))) {
    throw new InvalidArgumentError(`${where}: roles must be a non-empty array of ${ROLES.join(', ')}`)
  }
  const out: TokenEntry = { id, hash, roles: [...new Set(roles as Role[])] }
  if (scopes !== undefined) {
    if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => typeof s === 'string' && s.length > 0)) {
      throw new InvalidArgumentError(`${where}: scopes, when given, must be a non-empty array of scope names`)
    }
    out.scopes = [...new Set(scopes as string[])]
  }
  if (tags !== undefined) {
    if (!Array.isArray(tags) || tags.length === 0) throw new InvalidArgumentError(`${where}: tags, when given, must be a non-empty array of tags`)
    out.tags = checkTags(tags, `${where}: `)
  }
  if (expiresAt !== undefined) {
    if (typeof expiresAt !== 'string' || !ISO_RE.test(expiresAt) || Number.isNaN(Date.parse(expiresAt))) {
      throw new InvalidArgumentError(`${where}: expiresAt must be an ISO 8601 date (e.g. 2030-01-31 or 2030-01-31T12:00:00Z)`)
    }
    out.expiresAt = expiresAt
  }
  if (rateLimit !== undefined) out.rateLimit = checkRateLimit(rateLimit, `${where}: rateLimit`)
  return out
}

const ISO_RE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/

/** { max, timeWindowMs }: positive integers. */
export function checkRateLimit(v: unknown, what: string): TokenRateLimit {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidArgumentError(`${what} must be { max, timeWindowMs }`)
  const { max, timeWindowMs, ...rest } = v as Record<string, unknown>
  if (Object.keys(rest).length > 0) throw new InvalidArgumentError(`${what}: unknown key '${Object.keys(rest)[0]}'; accepted: max, timeWindowMs`)
  for (const [k, n] of [['max', max], ['timeWindowMs', timeWindowMs]] as const) {
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${what}.${k} must be a positive integer, got ${String(n)}`)
  }
  return { max: max as number, timeWindowMs: timeWindowMs as number }
}

/** Entries of a tokens file's text: a JSON array, or JSON lines (blank lines skipped). */
export function parseTokens(text: string, file = 'tokens'): TokenEntry[] {
  const trimmed = text.trim()
  if (trimmed.startsWith('[')) {
    let list: unknown
    try {
      list = JSON.parse(trimmed)
    } catch (e) {
      throw new InvalidArgumentError(`${file} is not valid JSON: ${(e as Error).message}`)
    }
    if (!Array.isArray(list)) throw new InvalidArgumentError(`${file} must hold a JSON array or JSON lines`)
    return list.map((e, i) => checkEntry(e, `${file} entry ${i}`))
  }
  const out: TokenEntry[] = []
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return
    let e: unknown
    try {
      e = JSON.parse(line)
    } catch (err) {
      throw new InvalidArgumentError(`${file} line ${i + 1} is not valid JSON: ${(err as Error).message}`)
    }
    out.push(checkEntry(e, `${file} line ${i + 1}`))
  })
  return out
}

export function readTokensFile(file: string): TokenEntry[] {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (e) {
    throw new InvalidArgumentError(`cannot read tokens file ${file}: ${(e as Error).message}`)
  }
  return parseTokens(text, file)
}

/** The tokens of `serve`'s `tokens` option, checked: a file path or entries in memory. */
export function loadTokens(tokens: string | readonly TokenEntry[]): TokenEntry[] {
  if (typeof tokens === 'string') return readTokensFile(tokens)
  if (!Array.isArray(tokens)) throw new InvalidArgumentError('tokens must be a tokens file path or an array of { id, hash, roles, scopes?, tags?, expiresAt?, rateLimit? }')
  return tokens.map((e, i) => checkEntry(e, `tokens[${i}]`))
}

/** An entry's hash as bytes and its principal, made once per entry (not per request). */
interface Prepared {
  hashText: string
  hash: Buffer
  principal: Principal
}
const preparedEntries = new WeakMap<TokenEntry, Prepared>()

function prepared(e: TokenEntry): Prepared {
  let p = preparedEntries.get(e)
  if (p === undefined || p.hashText !== e.hash) {
    const principal: Principal = Object.freeze({
      id: e.id,
      roles: new Set(e.roles),
      scopes: e.scopes ? new Set(e.scopes) : undefined,
      ...(e.tags ? { tags: new Set(e.tags) } : {}),
      ...(e.rateLimit ? { rateLimit: e.rateLimit } : {}),
    })
    p = { hashText: e.hash, hash: Buffer.from(e.hash, 'latin1'), principal }
    preparedEntries.set(e, p)
  }
  return p
}

/**
 * The hashes of tokens that matched an entry, by token text: a keep-alive
 * client presents the same token on every request, and hashing it each
 * time was the auth hook's main cost. Bounded (emptied when full); only
 * valid tokens enter it, so a stream of bad guesses cannot fill it. The
 * constant-time compare against every entry still runs on each request.
 */
const HASH_CACHE_MAX = 1024
const validHashes = new Map<string, Buffer>()

/**
 * The principal whose token hashes to the presented one, or undefined.
 * Every entry is compared (no early exit), each in constant time. An
 * entry past its expiresAt (at `now`) answers { expired }.
 */
export function findToken(entries: readonly TokenEntry[], presented: string, now = Date.now()): TokenMatch {
  const cached = validHashes.get(presented)
  const h = cached ?? Buffer.from(hashToken(presented), 'latin1')
  let found: TokenEntry | undefined
  for (const e of entries) {
    const p = prepared(e)
    // Both are 'sha256:' + 64 hex: equal lengths, as timingSafeEqual needs.
    if (p.hash.length === h.length && timingSafeEqual(p.hash, h) && !found) found = e
  }
  if (!found) return undefined
  const untilMs = found.expiresAt === undefined ? Infinity : Date.parse(found.expiresAt)
  if (untilMs <= now) return { expired: { id: found.id, at: found.expiresAt! } }
  if (cached === undefined) {
    if (validHashes.size >= HASH_CACHE_MAX) validHashes.clear()
    validHashes.set(presented, h)
  }
  return { principal: prepared(found).principal, untilMs }
}

/**
 * Makes a token, appends its hashed entry to `file` and returns the token
 * (the only time it is seen). A new file is created with mode 0600; a file
 * holding a JSON array is rewritten as an array (atomically, by rename)
 * so it stays valid; otherwise one JSON line is appended.
 */
export function createToken(
  file: string,
  roles: readonly Role[],
  scopes?: readonly string[],
  id?: string,
  extra: { expiresAt?: string; rateLimit?: TokenRateLimit; tags?: readonly string[] } = {},
): { token: string; entry: TokenEntry } {
  const token = newToken()
  const entry = checkEntry(
    {
      id: id ?? `t_${randomBytes(6).toString('hex')}`,
      hash: hashToken(token),
      roles: [...roles],
      ...(scopes && scopes.length > 0 ? { scopes: [...scopes] } : {}),
      ...(extra.tags && extra.tags.length > 0 ? { tags: [...extra.tags] } : {}),
      ...(extra.expiresAt !== undefined ? { expiresAt: extra.expiresAt } : {}),
      ...(extra.rateLimit !== undefined ? { rateLimit: extra.rateLimit } : {}),
    },
    'new token',
  )
  let existing = ''
  try {
    existing = fs.readFileSync(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  const entries = parseTokens(existing, file)
  if (entries.some((e) => e.id === entry.id)) throw new InvalidArgumentError(`${file} already has a token with id ${entry.id}`)
  if (existing.trim().startsWith('[')) {
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`)
    fs.writeFileSync(tmp, `${JSON.stringify([...entries, entry], null, 2)}\n`, { mode: 0o600 })
    fs.renameSync(tmp, file)
  } else {
    // 'a' with mode: the mode applies only when the file is created.
    const fd = fs.openSync(file, 'a', 0o600)
    try {
      const sep = existing.length > 0 && !existing.endsWith('\n') ? '\n' : ''
      fs.writeSync(fd, `${sep}${JSON.stringify(entry)}\n`)
    } finally {
      fs.closeSync(fd)
    }
  }
  return { token, entry }
}
