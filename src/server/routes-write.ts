/**
 * The write routes: append, batch, conditional append. Each decodes its
 * whole body and checks every scope it writes (and, for append-if, the
 * scope its condition reads) before calling the store, and the store
 * checks everything before writing a byte: a refused request writes nothing.
 */
import type { FastifyRequest } from 'fastify'
import type { AppendCondition, BatchItem } from '../append-options.js'
import type { AppendReceipt } from '../receipt.js'
import { InvalidArgumentError } from '../errors.js'
import { Region } from '../region.js'
import type { Query } from '../query/query.js'
import { checkDeduplicated, checkScope, checkSelectionTags, checkTagged } from './auth.js'
import { sendPrebuilt } from './body.js'
import type { RouteTable } from './routes.js'
import { appendAny, appendBatchAny, appendIfAny } from './append-any.js'
import { receiptJson, receiptsJson } from './receipt-json.js'
import { appendRequest, batchItems, durableFlag, object, onlyKeys, receiptWire, selection, sequence } from './wire.js'

/** What a restricted token may write: events in its scopes, carrying one of its tags. */
export function checkWrite(req: FastifyRequest, scope: string, tags: readonly string[] | undefined, what: string): void {
  checkScope(req, scope, what)
  checkTagged(req, tags, what)
}

export function checkItemScopes(req: FastifyRequest, items: readonly BatchItem[]): void {
  items.forEach((it, i) => checkWrite(req, it.coord.scope, it.tags, `item ${i}`))
}

/**
 * A restricted token's read: a Region naming one of its scopes (a DCB
 * Query names no scope, so a scope-restricted token cannot use one: it
 * would read, or be refused by, events of every scope), and requiring one
 * of its tags (checkSelectionTags).
 */
export function checkSelectionScope(req: FastifyRequest, sel: Region | Query, what: string): void {
  checkScope(req, sel instanceof Region ? sel.scope : undefined, what)
  checkSelectionTags(req, sel, what)
}

export function writeRoutes(t: RouteTable): void {
  const { store } = t.ctx

  // Not async: a plain append answers in the same turn (a Promise only for durable: 'replicated').
  t.add('POST', '/v1/append', 'append', (req, reply) => {
    const a = appendRequest(req.body)
    checkWrite(req, a.coord.scope, a.options.tags, 'append')
    const answer = (r: AppendReceipt) => {
      checkDeduplicated(req, store, [r])
      return sendPrebuilt(req, reply, 200, () => receiptWire(r), () => receiptJson(r))
    }
    const r = appendAny(store, a)
    return r instanceof Promise ? r.then(answer) : answer(r)
  }, { tag: 'events', summary: 'Appends one event', body: '{ entity, scope, kind | type, payload, options?: { expectedSequence, idempotencyKey, correlationId, causationId, durable, occurredAt, tags } }' })

  t.add('POST', '/v1/batch', 'append', async (req, reply) => {
    const o = object(req.body, 'the request body')
    onlyKeys(o, ['items', 'durable'], 'batch')
    const items = batchItems(o.items)
    checkItemScopes(req, items)
    const receipts = await appendBatchAny(store, items, durableFlag(o.durable))
    checkDeduplicated(req, store, receipts)
    return sendPrebuilt(req, reply, 200, () => ({ receipts: receipts.map(receiptWire) }), () => receiptsJson(receipts))
  }, { tag: 'events', summary: 'Appends a batch of events atomically', body: '{ items: [{ entity, scope, kind | type, payload, ... }], durable? }' })

  // { items, condition: { region | query, after }, durable? }: after is a
  // global sequence (a decimal string in JSON) or null (no matching event may exist).
  t.add('POST', '/v1/append-if', 'append', async (req, reply) => {
    const o = object(req.body, 'the request body')
    onlyKeys(o, ['items', 'condition', 'durable'], 'append-if')
    const items = batchItems(o.items)
    const c = object(o.condition, 'condition')
    onlyKeys(c, ['region', 'query', 'after'], 'condition')
    const sel = selection(c, 'condition')
    if (!('after' in c)) throw new InvalidArgumentError('condition.after is required: a global sequence, or null')
    const condition: AppendCondition = { failIfEventsMatch: sel, after: c.after === null ? null : sequence(c.after, 'condition.after') }
    checkItemScopes(req, items)
    // The condition is a read too: a 409 would tell whether events of another scope exist.
    checkSelectionScope(req, sel, 'the condition')
    const receipts = await appendIfAny(store, items, condition, durableFlag(o.durable))
    checkDeduplicated(req, store, receipts)
    return sendPrebuilt(req, reply, 200, () => ({ receipts: receipts.map(receiptWire) }), () => receiptsJson(receipts))
  }, {
    tag: 'events',
    summary: 'Appends a batch only if no event matching the condition exists after a position (DCB)',
    body: '{ items, condition: { region | query, after: sequence | null }, durable? }',
  })
}
