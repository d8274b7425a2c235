/**
 * GET /v1/ws: the WebSocket endpoint, both directions. Authenticated on
 * the upgrade request like every route: an `Authorization: Bearer` header,
 * or (browsers cannot set headers on a WebSocket) the subprotocols
 * `['causeway', 'bearer.<token>']`; the server picks 'causeway'.
 *
 * Requests (JSON text): { id, op, ... } with op
 *   append      { entity, scope, type|kind, payload, options? }   (POST /v1/append's body)
 *   batch       { items, durable? }                               (POST /v1/batch's body)
 *   appendIf    { items, condition, durable? }                    (POST /v1/append-if's body)
 *   subscribe   { mode?, after?, region? | query? }  → result { sub }
 *               (mode cursor, the default: from the first event or after `after`;
 *               subscription: what is appended from now on)
 *   unsubscribe { sub }
 * Replies: { id, ok: true, result } or { id, ok: false, error: { code, message } }.
 * Pushed: { sub, event } and { sub, lag: { missed } }.
 * The same role and scope checks as the HTTP routes apply per message.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { ForbiddenError, InvalidArgumentError } from '../errors.js'
import type { Immediate, Store } from '../store.js'
import { checkDeduplicated, hasRole, principalOf } from './auth.js'
import { toJson } from './body.js'
import { toWireError } from './http-errors.js'
import { startLive, type Live } from './live.js'
import type { RouteTable } from './routes.js'
import { liveMode, liveSelection } from './routes-live.js'
import { checkItemScopes, checkSelectionScope, checkWrite } from './routes-write.js'
import { appendRequest, batchItems, durableFlag, eventWire, object, onlyKeys, receiptWire, selection, sequence } from './wire.js'
import type { AppendCondition } from '../append-options.js'
import type { AppendReceipt } from '../receipt.js'

/** Above this many buffered bytes a socket's subscriptions wait for it to drain. */
const HIGH_WATER = 1 << 20

type Obj = Record<string, unknown>

function needRole(req: FastifyRequest, role: 'append' | 'read'): void {
  const p = principalOf(req)
  if (!hasRole(p, role)) throw new ForbiddenError(`token ${p.id} lacks the '${role}' role this operation needs`)
}

function body(o: Obj): Obj {
  const { id: _id, op: _op, ...rest } = o
  return rest
}

function write(store: Store, req: FastifyRequest, op: string, o: Obj): unknown {
  needRole(req, 'append')
  const b = body(o)
  if (op === 'append') {
    const a = appendRequest(b)
    checkWrite(req, a.coord.scope, a.options.tags, 'append')
    const r = store.append(a.coord, a.kind, a.payload, immediate(a.options))
    checkDeduplicated(req, store, [r])
    return receiptWire(r)
  }
  const allowed = op === 'batch' ? ['items', 'durable'] : ['items', 'condition', 'durable']
  onlyKeys(b, allowed, op)
  const items = batchItems(b.items)
  checkItemScopes(req, items)
  const answer = (receipts: AppendReceipt[]) => {
    checkDeduplicated(req, store, receipts)
    return { receipts: receipts.map(receiptWire) }
  }
  if (op === 'batch') return answer(store.appendBatch(items, immediate(durableFlag(b.durable))))
  const c = object(b.condition, 'condition')
  onlyKeys(c, ['region', 'query', 'after'], 'condition')
  const sel = selection(c, 'condition')
  if (!('after' in c)) throw new InvalidArgumentError('condition.after is required: a global sequence, or null')
  checkSelectionScope(req, sel, 'the condition')
  const condition: AppendCondition = { failIfEventsMatch: sel, after: c.after === null ? null : sequence(c.after, 'condition.after') }
  return answer(store.appendIf(items, condition, immediate(durableFlag(b.durable))))
}

/** The socket answers each message in order, at once: durable 'replicated' (a wait for JetStream) is POST's. */
function immediate<O extends { durable?: boolean | 'replicated' }>(o: O): Immediate<O> {
  if (o.durable === 'replicated') throw new InvalidArgumentError("durable: 'replicated' is not available over the WebSocket: use POST /v1/append")
  return o as Immediate<O>
}

export function wsRoutes(t: RouteTable): void {
  const { store } = t.ctx
  t.addWebSocket('/v1/ws', 'any', (socket, req) => {
    const subs = new Map<number, Live>()
    let nextSub = 1
    const send = (v: unknown): void => {
      if (socket.readyState === socket.OPEN) socket.send(toJson(v))
    }
    const drained = async (): Promise<void> => {
      if (socket.bufferedAmount < HIGH_WATER) return
      const raw = (socket as unknown as { _socket?: NodeJS.EventEmitter })._socket
      if (raw) await new Promise<void>((r) => raw.once('drain', r).once('close', r))
    }
    const subscribe = (o: Obj): unknown => {
      needRole(req, 'read')
      const b = body(o)
      onlyKeys(b, ['mode', 'after', 'region', 'query'], 'subscribe')
      const mode = liveMode(b.mode)
      const sel = liveSelection(b)
      checkSelectionScope(req, sel, 'the subscription')
      const from = b.after === undefined || b.after === null ? 0n : sequence(b.after, 'after') + 1n
      const sub = nextSub++
      const live = startLive(store, sel, mode, from, {
        event: (e) => {
          send({ sub, event: eventWire(e) })
          return drained()
        },
        lag: (missed) => send({ sub, lag: { missed } }),
      })
      subs.set(sub, live)
      live.done.catch((e: unknown) => send({ sub, error: toWireError(e).body.error }))
      return { sub }
    }
    const stopAll = (): void => {
      for (const l of subs.values()) l.stop()
      subs.clear()
      t.ctx.live.delete(closeSocket)
    }
    const closeSocket = (): void => {
      stopAll()
      socket.close(1001, 'server closing')
    }
    t.ctx.live.add(closeSocket)
    socket.on('close', stopAll)
    socket.on('message', (data, isBinary) => {
      let id: unknown = null
      try {
        if (isBinary) throw new InvalidArgumentError('send JSON text messages')
        let msg: unknown
        try {
          msg = JSON.parse(String(data))
        } catch {
          throw new InvalidArgumentError('a message must be JSON: { id, op, ... }')
        }
        const o = object(msg, 'the message')
        id = o.id ?? null
        let result: unknown
        switch (o.op) {
          case 'append':
          case 'batch':
          case 'appendIf':
            result = write(store, req, o.op, o)
            break
          case 'subscribe':
            result = subscribe(o)
            break
          case 'unsubscribe': {
            const sub = typeof o.sub === 'number' ? subs.get(o.sub) : undefined
            if (sub === undefined) throw new InvalidArgumentError(`no subscription ${JSON.stringify(o.sub)} on this socket`)
            sub.stop()
            subs.delete(o.sub as number)
            result = {}
            break
          }
          default:
            throw new InvalidArgumentError(`op must be append, batch, appendIf, subscribe or unsubscribe, got ${JSON.stringify(o.op)}`)
        }
        send({ id, ok: true, result })
      } catch (e) {
        send({ id, ok: false, error: toWireError(e).body.error })
      }
    })
  }, {
    tag: 'live',
    summary: 'WebSocket: append, batch, appendIf, subscribe and unsubscribe messages (roles and scopes checked per message; token in Authorization or the bearer.<token> subprotocol)',
  })
}

/** The subprotocol the server picks: 'causeway' when offered (a `bearer.<token>` entry is never echoed back). */
export function pickProtocol(protocols: Set<string>): string | false {
  return protocols.has('causeway') ? 'causeway' : false
}

/**
 * A refused upgrade (401, 403, 404) is answered over the upgrade's own
 * socket, which no HTTP server tracks: close it once answered, or a client
 * that stays connected would hold close() open.
 */
export function endRefusedUpgrades(app: FastifyInstance): void {
  app.addHook('onResponse', (req, _reply, done) => {
    const upgrade = req.headers.upgrade
    if (upgrade !== undefined && String(upgrade).toLowerCase() === 'websocket' && req.raw.socket && !req.raw.socket.destroyed) {
      // An accepted upgrade hijacks its reply: onResponse never runs for it.
      req.raw.socket.end()
    }
    done()
  })
}
