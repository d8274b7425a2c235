/**
 * The route table. Every route is added through `RouteTable.add`, which
 * records the role it needs in the route's config, where the
 * authentication hook reads it. serve()'s onRoute hook refuses any route
 * registered without one and lists them all as `server.routes` (the auth
 * tests walk that list, so a route added without a test of its 401 and
 * 403 fails).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import type { Store } from '../store.js'
import type { Need, RouteInfo } from './route-info.js'

export type { Need, RouteInfo }

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The role the route needs (RouteTable.add sets it on every route). */
    need?: Need
  }
}

/** What the handlers share: the store, and the options that shape answers. */
export interface RouteContext {
  store: Store
  /** The directory admin snapshots go under; undefined: snapshots are refused. */
  backupDir: string | undefined
  /** Set once close() begins: /ready answers 503 from then on. */
  closing: () => boolean
  /** How often live streams send a heartbeat, in milliseconds. */
  heartbeatMs: number
  /** The live streams open now: close() ends each (see live.ts). */
  live: Set<() => void>
}

export type Handler = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>

export class RouteTable {
  constructor(
    readonly app: FastifyInstance,
    readonly ctx: RouteContext,
  ) {}

  add(method: RouteInfo['method'], url: string, need: Need, handler: Handler): void {
    this.app.route({ method, url, config: { need }, handler })
  }

  /** A WebSocket route (@fastify/websocket must be registered first); authenticated on its upgrade request. */
  addWebSocket(url: string, need: Need, handler: (socket: WebSocket, req: FastifyRequest) => void): void {
    this.app.route({ method: 'GET', url, config: { need }, websocket: true, handler: handler as never } as never)
  }
}

/** The role the matched route needs, read by the authentication hook; undefined for an unknown route. */
export function needOf(req: FastifyRequest): Need | undefined {
  return req.routeOptions?.config?.need
}
