/**
 * Authentication and authorisation. One onRequest hook authenticates every
 * request, unknown routes included (so a caller without a token learns
 * nothing about which routes exist), before its body is read: an
 * unauthenticated client cannot make the server parse a large body. The
 * role each route needs is part of its registration (see routes.ts), so
 * no route can be added without saying who may call it; scopes are
 * checked by the handlers, which know which scopes a request touches.
 * identify() finds the token once per request (the rate limiter, which
 * runs first, keys on it); authenticate() then refuses or admits.
 * Expired tokens are 401 with a message saying so.
 */
import type { FastifyRequest } from 'fastify'
import { ForbiddenError, UnauthorizedError } from '../errors.js'
import type { Need } from './route-info.js'
import type { StoredEvent } from '../event.js'
import type { AppendReceipt } from '../receipt.js'
import type { Store } from '../store.js'
import type { Query } from '../query/query.js'
import { Region } from '../region.js'
import { findToken, type Principal, type Role, type TokenEntry } from './tokens.js'

/** The principal of insecureLocal: every role, every scope (only ever on a loopback address). */
export const LOCAL_PRINCIPAL: Principal = Object.freeze({ id: 'insecure-local', roles: new Set<Role>(['read', 'append', 'admin']), scopes: undefined })

// Kept on the request itself under symbols no caller can name (a WeakMap
// entry per request cost a few µs of ephemeron bookkeeping on every call).
const PRINCIPAL = Symbol('causeway.principal')
const IDENTITY = Symbol('causeway.identity')
interface Marked {
  [PRINCIPAL]?: Principal
  [IDENTITY]?: Principal | UnauthorizedError
}
const marks = (req: FastifyRequest): Marked => req as FastifyRequest & Marked

/**
 * The last Authorization header a connection presented and whom it
 * identified: a keep-alive client sends the same header on every request,
 * so the token is looked up once per HTTP/1.1 connection, not per request. Valid
 * for the same header text, the same token list (reloadTokens makes a new
 * one; the server's entries are its own copies) and until the entry expires.
 */
const CONNECTION = Symbol('causeway.connectionIdentity')
interface ConnectionIdentity {
  header: string
  tokens: readonly TokenEntry[]
  principal: Principal
  untilMs: number
}
type Remembering = { [CONNECTION]?: ConnectionIdentity }

/** The bearer token of an Authorization header, or undefined. */
function bearer(header: string | undefined): string | undefined {
  if (typeof header !== 'string') return undefined
  const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header)
  return m ? m[1] : undefined
}

/**
 * The token of a WebSocket upgrade's `Sec-WebSocket-Protocol: causeway, bearer.<token>`
 * (browsers cannot set an Authorization header on a WebSocket).
 */
function protocolBearer(req: FastifyRequest): string | undefined {
  const h = req.headers['sec-websocket-protocol']
  if (typeof h !== 'string' || String(req.headers.upgrade).toLowerCase() !== 'websocket') return undefined
  const entry = h.split(',').map((p) => p.trim()).find((p) => p.startsWith('bearer.'))
  return entry === undefined || entry.length === 7 ? undefined : entry.slice(7)
}

/**
 * Who the request is (tokens undefined: insecureLocal), or why it is
 * nobody, without refusing it yet: the rate limiter keys on it first.
 * Computed once per request.
 */
export function identify(req: FastifyRequest, tokens: readonly TokenEntry[] | undefined): Principal | UnauthorizedError {
  const known = marks(req)[IDENTITY]
  if (known) return known
  let id: Principal | UnauthorizedError
  if (tokens === undefined) id = LOCAL_PRINCIPAL
  else {
    const header = req.headers.authorization
    // HTTP/1.x: its own socket (an HTTP/2 request's is a proxy of its session's).
    const conn = req.raw.httpVersionMajor === 1 ? (req.raw.socket as typeof req.raw.socket & Remembering) : null
    const seen = conn?.[CONNECTION]
    if (seen !== undefined && seen.header === header && seen.tokens === tokens && Date.now() < seen.untilMs) {
      marks(req)[IDENTITY] = seen.principal
      return seen.principal
    }
    const fromHeader = bearer(header)
    const token = fromHeader ?? protocolBearer(req)
    const found = token === undefined ? undefined : findToken(tokens, token)
    if (token === undefined) id = new UnauthorizedError('this route needs an Authorization: Bearer <token> header')
    else if (found === undefined) id = new UnauthorizedError('the bearer token is not valid')
    else if ('expired' in found) id = new UnauthorizedError(`the bearer token ${found.expired.id} expired at ${found.expired.at}`)
    else {
      id = found.principal
      if (fromHeader !== undefined && conn) conn[CONNECTION] = { header: header!, tokens, principal: id, untilMs: found.untilMs }
    }
  }
  marks(req)[IDENTITY] = id
  return id
}

/**
 * Authenticates the request (tokens undefined: insecureLocal) and checks
 * the route's role. Throws UnauthorizedError or ForbiddenError. A public
 * route is not authenticated: undefined, and principalOf refuses it.
 */
export function authenticate(req: FastifyRequest, tokens: readonly TokenEntry[] | undefined, need: Need | undefined): Principal | undefined {
  // The console's static files carry no data (serve() lets only /ui routes be public).
  if (need === 'public') return undefined
  const p = identify(req, tokens)
  if (p instanceof UnauthorizedError) throw p
  marks(req)[PRINCIPAL] = p
  if (need !== undefined && need !== 'any' && !hasRole(p, need)) {
    throw new ForbiddenError(`token ${p.id} lacks the '${need}' role this route needs`)
  }
  return p
}

/** admin includes read and append: an operator's token does everything. */
export function hasRole(p: Principal, role: Role): boolean {
  return p.roles.has(role) || p.roles.has('admin')
}

export function principalOf(req: FastifyRequest): Principal {
  const p = marks(req)[PRINCIPAL]
  // Unreachable: the hook runs before every handler. Refuse rather than assume.
  if (!p) throw new UnauthorizedError('the request was not authenticated')
  return p
}

/** Refuses a scope outside the token's scopes (reads and writes alike). */
export function checkScope(req: FastifyRequest, scope: string | undefined, what: string): void {
  const p = principalOf(req)
  if (p.scopes === undefined) return
  if (scope === undefined) {
    throw new ForbiddenError(`token ${p.id} is restricted to scope(s) ${[...p.scopes].join(', ')}: ${what} must name one of them`)
  }
  if (!p.scopes.has(scope)) throw new ForbiddenError(`token ${p.id} may not use scope ${scope} (${what})`)
}

/** Refuses a restricted token (scopes or tags): the route's answer spans every scope and tag (stats, metrics, snapshots). */
export function checkUnscoped(req: FastifyRequest, what: string): void {
  const p = principalOf(req)
  if (p.scopes !== undefined) throw new ForbiddenError(`token ${p.id} is restricted to scope(s) ${[...p.scopes].join(', ')}; ${what} spans every scope`)
  if (p.tags !== undefined) throw new ForbiddenError(`token ${p.id} is restricted to events tagged ${[...p.tags].join(', ')}; ${what} spans every event`)
}

/** Whether each event a read returns must be checked (the token has scopes or tags). */
export function isRestricted(req: FastifyRequest): boolean {
  const p = principalOf(req)
  return p.scopes !== undefined || p.tags !== undefined
}

/**
 * Refuses an event (appended or read) carrying none of a tag-restricted
 * token's tags: such a token writes and reads only events tagged for it.
 */
export function checkTagged(req: FastifyRequest, tags: readonly string[] | undefined, what: string): void {
  const p = principalOf(req)
  if (p.tags === undefined || carriesOneOf(p.tags, tags)) return
  throw new ForbiddenError(`token ${p.id} is restricted to events tagged ${[...p.tags].join(', ')}: ${what} carries none of them`)
}

/** Whether `tags` holds one of a tag-restricted token's tags. */
function carriesOneOf(allowed: ReadonlySet<string>, tags: readonly string[] | undefined): boolean {
  return tags !== undefined && tags.some((t) => allowed.has(t))
}

/** A stored event the token may read: its scope and its tags. */
export function checkEvent(req: FastifyRequest, e: StoredEvent, what: string): void {
  checkScope(req, e.coordinate.scope, what)
  checkTagged(req, e.tags, what)
}

/**
 * Refuses a selection a tag-restricted token could read other events
 * through: a Region must require one of its tags, and so must every item
 * of a DCB Query (an item's tags are all required).
 */
export function checkSelectionTags(req: FastifyRequest, sel: Region | Query, what: string): void {
  const p = principalOf(req)
  if (p.tags === undefined) return
  const required: Array<readonly string[] | undefined> = sel instanceof Region ? [sel.tags] : sel.items.length === 0 ? [undefined] : sel.items.map((i) => i.tags)
  for (const tags of required) {
    if (tags === undefined || !tags.some((t) => p.tags!.has(t))) {
      throw new ForbiddenError(`token ${p.id} is restricted to events tagged ${[...p.tags].join(', ')}: ${what} must require one of them${sel instanceof Region ? '' : ' in every item'}`)
    }
  }
}

/**
 * A deduplicated receipt is the receipt of an event appended before under
 * the same idempotency key, perhaps by another token: a restricted token
 * gets it only if it may read that event. Otherwise 403, saying no more
 * than that the key is taken (nothing was appended either way: a known key
 * appends nothing).
 */
export function checkDeduplicated(req: FastifyRequest, store: Pick<Store, 'get'>, receipts: readonly AppendReceipt[]): void {
  if (!isRestricted(req)) return
  const p = principalOf(req)
  for (const r of receipts) {
    if (!r.deduplicated) continue
    const e = store.get(r.eventId)
    const readable = e !== undefined && (p.scopes === undefined || p.scopes.has(e.coordinate.scope)) && (p.tags === undefined || carriesOneOf(p.tags, e.tags))
    if (!readable) throw new ForbiddenError(`token ${p.id}: the idempotency key of this append names an event appended before that this token may not read; nothing was appended`)
  }
}
