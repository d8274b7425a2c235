/**
 * The inspection routes the web console reads (all need 'read'):
 * an event's causal graph, its ancestors on its entity's hash chain, that
 * chain verified from genesis up to the event, and the segment list.
 *
 * Scopes: a scope-restricted token gets an answer only when every event
 * in it is in its scopes; otherwise 403, never a trimmed answer (a trimmed
 * graph would look complete). The segment list spans every scope, so such
 * a token is refused it.
 */
import * as path from 'node:path'
import type { FastifyRequest } from 'fastify'
import { InvalidArgumentError, NotFoundError } from '../errors.js'
import type { StoredEvent } from '../event.js'
import { ChainVerifier } from '../causal/verify.js'
import { blake3Hex } from '../native/loader.js'
import { yieldToLoop } from '../ops/long-op.js'
import '../ops/diagnostics.js'
import { checkEvent, checkUnscoped, isRestricted } from './auth.js'
import { send } from './body.js'
import { DEFAULT_LIMIT, MAX_LIMIT } from './route-info.js'
import type { RouteTable } from './routes.js'
import { eventWire, onlyKeys } from './wire.js'

/** The most hops a causal graph request may ask for (the library's default is 64). */
export const MAX_CAUSAL_DEPTH = 256
/** The most events a causal graph answer may hold, and how many it holds unless asked (one answer stays a bounded response). */
export const MAX_CAUSAL_NODES = 100_000
const DEFAULT_CAUSAL_NODES = 10_000
/** Events per read (and per turn of the event loop) while verifying a chain. */
const VERIFY_PAGE = 4096

/** An integer query parameter in [min, max], or `dflt` when absent. */
function intParam(v: unknown, what: string, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt
  const n = typeof v === 'string' && /^\d{1,10}$/.test(v) ? Number(v) : NaN
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${what} must be an integer ${min}..${max}, got ${JSON.stringify(String(v))}`)
  return n
}

function eventOf(t: RouteTable, req: FastifyRequest): StoredEvent {
  const { id } = req.params as { id: string }
  const e = t.ctx.store.get(id)
  if (!e) throw new NotFoundError(`no event has id ${id}`)
  return e
}

/** 403 unless the token may read every event (scopes, tags; an unrestricted token sees all). */
function checkAllInScope(req: FastifyRequest, events: Iterable<StoredEvent>, what: string): void {
  if (!isRestricted(req)) return
  for (const e of events) checkEvent(req, e, `${what}: event ${e.eventId}`)
}

export function inspectRoutes(t: RouteTable): void {
  const { store } = t.ctx

  // ?direction=causes|effects|both&maxDepth=N
  t.add('GET', '/v1/events/:id/causal', 'read', async (req, reply) => {
    const q = req.query as Record<string, unknown>
    onlyKeys(q, ['direction', 'maxDepth', 'maxNodes'], 'causal graph')
    const root = eventOf(t, req)
    checkEvent(req, root, `event ${root.eventId}`)
    const direction = q.direction ?? 'both'
    if (direction !== 'causes' && direction !== 'effects' && direction !== 'both') {
      throw new InvalidArgumentError(`direction must be causes, effects or both, got ${JSON.stringify(String(direction))}`)
    }
    const maxDepth = intParam(q.maxDepth, 'maxDepth', 0, MAX_CAUSAL_DEPTH, 64)
    const maxNodes = intParam(q.maxNodes, 'maxNodes', 1, MAX_CAUSAL_NODES, DEFAULT_CAUSAL_NODES)
    const g = store.causalGraph(root.eventId, { direction, maxDepth, maxNodes })
    checkAllInScope(req, g.nodes, `the causal graph of ${root.eventId}`)
    return send(req, reply, 200, { root: g.root, nodes: g.nodes.map(eventWire), edges: g.edges, truncated: g.truncated })
  }, { tag: 'audit', summary: 'The causation graph around an event', params: { id: 'the event id' }, query: { direction: 'causes | effects | both (default both)', maxDepth: 'hops from the event, 0..256 (default 64)', maxNodes: 'the most events in the answer, 1..100000 (default 10000); truncated says the walk stopped' } })

  // ?limit=N: the event and up to N - 1 predecessors, newest first.
  // A corrupt link is E_CORRUPTION naming the event; /verify reports instead.
  t.add('GET', '/v1/events/:id/ancestors', 'read', async (req, reply) => {
    const q = req.query as Record<string, unknown>
    onlyKeys(q, ['limit'], 'ancestors')
    const limit = intParam(q.limit, 'limit', 1, MAX_LIMIT, DEFAULT_LIMIT)
    const start = eventOf(t, req)
    checkEvent(req, start, `event ${start.eventId}`)
    const walk = store.walkAncestorsOutcome(start.eventId, limit)
    checkAllInScope(req, walk.events, `the ancestors of ${start.eventId}`)
    const body: Record<string, unknown> = { events: walk.events.map(eventWire), stop: walk.stopped }
    if (walk.stopped === 'missing-parent') body.missingParentHash = walk.missingParentHash
    return send(req, reply, 200, body)
  }, { tag: 'audit', summary: "An event and its predecessors on its entity's hash chain, each link checked", params: { id: 'the event id' }, query: { limit: 'most events, 1..1000 (default 100)' } })

  // The event's entity chain from clock 1 up to the event, re-hashed and
  // its links checked, a page at a time (other requests are served between
  // pages). Damage is reported (ok: false and where), never thrown.
  t.add('GET', '/v1/events/:id/verify', 'read', async (req, reply) => {
    onlyKeys(req.query as Record<string, unknown>, [], 'verify')
    const target = eventOf(t, req)
    checkEvent(req, target, `event ${target.eventId}`)
    const entity = target.coordinate.entity
    const verifier = new ChainVerifier(blake3Hex)
    for (let clockFrom = 0; clockFrom <= target.clock; ) {
      const page = store.readFiltered({ entity, exactEntity: true, clockFrom, clockTo: target.clock, limit: VERIFY_PAGE })
      checkAllInScope(req, page, `the chain of ${entity}`)
      for (const e of page) verifier.check(entity, e)
      const last = page[page.length - 1]
      if (!last || page.length < VERIFY_PAGE) break
      clockFrom = last.clock + 1
      await yieldToLoop()
    }
    const r = verifier.report
    const ok = r.contentMismatches.length === 0 && r.brokenLinks.length === 0 && r.missingParents.length === 0
    return send(req, reply, 200, {
      ok,
      checked: r.eventsChecked,
      eventId: target.eventId,
      entity,
      clock: target.clock,
      contentMismatches: r.contentMismatches,
      brokenLinks: r.brokenLinks,
      missingParents: r.missingParents,
      tombstones: r.tombstones,
    })
  }, { tag: 'audit', summary: "Verifies the event's entity hash chain from genesis up to the event", params: { id: 'the event id' } })

  // File names only: the server's paths stay on the server.
  t.add('GET', '/v1/segments', 'read', async (req, reply) => {
    checkUnscoped(req, 'the segment list')
    const segments = store.diagnostics().segmentList.map((s) => ({ ...s, file: path.basename(s.file) }))
    return send(req, reply, 200, { segments })
  }, { tag: 'meta', summary: 'The segment files with their sequences, sizes and states' })
}
