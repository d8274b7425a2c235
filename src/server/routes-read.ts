/**
 * The read routes: get by id, an entity's stream, region and DCB queries
 * with paging, stats, Prometheus metrics, health and readiness. Pages are
 * bounded (MAX_LIMIT events) so one request cannot make the server build
 * an unbounded answer; `next` says where the following page starts.
 */
import type { FastifyRequest } from 'fastify'
import { InvalidArgumentError, NotFoundError } from '../errors.js'
import type { StoredEvent } from '../event.js'
import { PROMETHEUS_CONTENT_TYPE, prometheusText } from '../metrics/prometheus.js'
import { checkEvent, checkUnscoped, isRestricted } from './auth.js'
import { send } from './body.js'
import { DEFAULT_LIMIT, MAX_LIMIT } from './route-info.js'
import type { RouteTable } from './routes.js'
import { checkSelectionScope } from './routes-write.js'
import { eventWire, object, onlyKeys, selection, sequence } from './wire.js'


function limitOf(v: unknown): number {
  if (v === undefined) return DEFAULT_LIMIT
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : typeof v === 'bigint' ? Number(v) : v
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw new InvalidArgumentError(`limit must be an integer 1..${MAX_LIMIT}, got ${JSON.stringify(String(v))}`)
  }
  return n
}

function boolOf(v: unknown, what: string): boolean {
  if (v === undefined || v === false || v === 'false') return false
  if (v === true || v === 'true' || v === '') return true
  throw new InvalidArgumentError(`${what} must be true or false`)
}

function clockOf(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'string' || !/^\d{1,10}$/.test(v)) throw new InvalidArgumentError(`${what} must be an integer 0..4294967295`)
  return Number(v)
}

/** A restricted token sees an entity's stream only when it may read every event of the page (scopes, tags). */
function checkEventScopes(req: FastifyRequest, events: readonly StoredEvent[], what: string): void {
  if (!isRestricted(req)) return
  for (const e of events) checkEvent(req, e, what)
}

export function readRoutes(t: RouteTable): void {
  const { store } = t.ctx

  t.add('GET', '/v1/events/:id', 'read', async (req, reply) => {
    const { id } = req.params as { id: string }
    const e = store.get(id)
    if (!e) throw new NotFoundError(`no event has id ${id}`)
    // Outside the token's scopes is 403, not 404: the answer must not look like "absent".
    checkEvent(req, e, `event ${id}`)
    return send(req, reply, 200, eventWire(e))
  }, { tag: 'reads', summary: 'One event by id', params: { id: 'the event id (a UUID)' } })

  // ?fromClock&toClock&limit&reverse. `next` is the last clock of a full
  // page: resume with fromClock = next + 1 (reverse: toClock = next - 1).
  t.add('GET', '/v1/streams/:entity', 'read', async (req, reply) => {
    const { entity } = req.params as { entity: string }
    const q = req.query as Record<string, unknown>
    onlyKeys(q, ['fromClock', 'toClock', 'limit', 'reverse'], 'stream')
    const fromClock = clockOf(q.fromClock, 'fromClock')
    const toClock = clockOf(q.toClock, 'toClock')
    const limit = limitOf(q.limit)
    const reverse = boolOf(q.reverse, 'reverse')
    const events = store
      .stream(entity, { ...(fromClock !== undefined ? { fromClock } : {}), ...(toClock !== undefined ? { toClock } : {}), limit, reverse })
      .toArray()
    checkEventScopes(req, events, `the stream of ${entity}`)
    const last = events.length === limit ? events[events.length - 1] : undefined
    return send(req, reply, 200, { events: events.map(eventWire), next: last ? last.clock : null })
  }, {
    tag: 'reads',
    summary: "A page of an entity's stream",
    params: { entity: 'the entity' },
    query: { fromClock: 'first clock (inclusive)', toClock: 'last clock (inclusive)', limit: `events per page, 1..${MAX_LIMIT}`, reverse: 'true: newest first' },
  })

  // { region | query, limit?, after?, reverse? }. `next` is the last
  // global sequence of a full page: pass it as `after` for the next page.
  t.add('POST', '/v1/query', 'read', async (req, reply) => {
    const o = object(req.body, 'the request body')
    onlyKeys(o, ['region', 'query', 'limit', 'after', 'reverse'], 'query')
    const sel = selection(o, 'query')
    checkSelectionScope(req, sel, 'the query')
    const limit = limitOf(o.limit)
    const after = o.after === undefined || o.after === null ? undefined : sequence(o.after, 'after')
    const reverse = boolOf(o.reverse, 'reverse')
    const events = store.query(sel, { limit, reverse, ...(after !== undefined ? { after } : {}) }).toArray()
    const last = events.length === limit ? events[events.length - 1] : undefined
    return send(req, reply, 200, { events: events.map(eventWire), next: last ? last.globalSequence : null })
  }, { tag: 'reads', summary: 'A page of a region or DCB query', body: '{ region | query, limit?, after?, reverse? }; pass next as after for the following page' })

  t.add('GET', '/v1/stats', 'read', async (req, reply) => {
    checkUnscoped(req, 'stats')
    return send(req, reply, 200, store.stats())
  }, { tag: 'meta', summary: "The store's statistics" })

  t.add('GET', '/metrics', 'read', async (req, reply) => {
    checkUnscoped(req, 'metrics')
    const text = await prometheusText(store.metrics())
    return reply.code(200).type(PROMETHEUS_CONTENT_TYPE).send(text)
  }, { tag: 'meta', summary: 'Prometheus metrics (text exposition format)' })

  t.add('GET', '/health', 'any', async (req, reply) => send(req, reply, 200, { status: 'ok' }), { tag: 'meta', summary: 'Liveness: the server answers' })

  // Ready: the store is open and the server is not shutting down (a load
  // balancer stops sending here as soon as close() begins).
  t.add('GET', '/ready', 'any', async (req, reply) => {
    if (store.closed) return send(req, reply, 503, { error: { code: 'E_STORE_CLOSED', message: 'the store is closed' } })
    if (t.ctx.closing()) return send(req, reply, 503, { error: { code: 'E_STORE_CLOSED', message: 'the server is closing' } })
    return send(req, reply, 200, { ready: true, role: store.stats().role })
  }, { tag: 'meta', summary: 'Readiness: the store is open and the server is not closing (503 otherwise)' })
}
