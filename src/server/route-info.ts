// What the route table exposes (server.routes), apart from the fastify
// types of routes.ts, so the public declarations need no fastify.
import type { Role } from './tokens.js'

/** What a route requires: a role, or only a valid token ('any': health, readiness). */
export type Need = Role | 'any'

export interface RouteInfo {
  readonly method: 'GET' | 'POST'
  readonly url: string
  readonly need: Need
}

/** Events per page of a query or stream when the request names no limit, and the most it may name. */
export const DEFAULT_LIMIT = 100
export const MAX_LIMIT = 1000
