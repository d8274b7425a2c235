/**
 * The route table. Every route is added through `RouteTable.add`, which
 * records the role it needs in the route's config, where the
 * authentication hook reads it. serve()'s onRoute hook refuses any route
 * registered without one and lists them all as `server.routes` (the auth
 * tests walk that list, so a route added without a test of its 401 and
 * 403 fails).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Projection } from '../projection/types.js'
import type { WebSocket } from 'ws'
import type { Store } from '../store.js'
import type { RouteDoc } from './docs.js'
import { InvalidArgumentError } from '../errors.js'
import { mayBePublic, type Need, type RouteInfo } from './route-info.js'

export type { Need, RouteInfo }

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The role the route needs (RouteTable.add sets it on every route). */
    need?: Need
    /** What the OpenAPI document at /docs says of the route. */
    doc?: RouteDoc
  }
}

/** What the handlers share: the store, and the options that shape answers. */
export interface RouteContext {
  store: Store
  /** The directory admin snapshots go under; undefined: snapshots are refused. */
  backupDir: string | undefined
  /** Set once close() begins: /ready answers 503 from then on. */
  closing: () => boolean
  /** The projections served by name. */
  projections: ReadonlyMap<string, Projection<unknown, never>>
  /** How often live streams send a heartbeat, in milliseconds. */
  heartbeatMs: number
  /** The live streams open now: close() ends each (see live.ts). */
  live: Set<() => void>
}

/** A handler answers with reply.send (returning the reply) or returns a Promise of the answer; what it throws is the error answer. */
export type Handler = (req: FastifyRequest, reply: FastifyReply) => unknown

export class RouteTable {
  constructor(
    readonly app: FastifyInstance,
    readonly ctx: RouteContext,
  ) {}

  /** `doc` goes to the OpenAPI document only: fastify validates nothing from it. */
  add(method: RouteInfo['method'], url: string, need: Need, handler: Handler, doc?: RouteDoc): void {
    // A public route answers without a token: only the console's static files may be one.
    if (need === 'public' && !mayBePublic(url)) throw new InvalidArgumentError(`route ${method} ${url} may not be public: only the console's static files under /ui are`)
    this.app.route({ method, url, config: { need, ...(doc ? { doc } : {}) }, handler })
  }

  /** A WebSocket route (@fastify/websocket must be registered first); authenticated on its upgrade request. */
  addWebSocket(url: string, need: Need, handler: (socket: WebSocket, req: FastifyRequest) => void, doc?: RouteDoc): void {
    this.app.route({ method: 'GET', url, config: { need, ...(doc ? { doc } : {}) }, websocket: true, handler: handler as never } as never)
  }
}

/** The role the matched route needs, read by the authentication hook; undefined for an unknown route. */
export function needOf(req: FastifyRequest): Need | undefined {
  return req.routeOptions?.config?.need
}
