// What the route table exposes (server.routes), apart from the fastify
// types of routes.ts, so the public declarations need no fastify.
import type { Role } from './tokens.js'

/**
 * What a route requires: a role, only a valid token ('any': health,
 * readiness), or nothing ('public': the console's static files, which
 * carry no data; only routes under PUBLIC_PREFIX may be public).
 */
export type Need = Role | 'any' | 'public'

/** The one place public routes may live: the web console's static files. */
export const PUBLIC_PREFIX = '/ui'

/** Whether `url` may be registered as a public route: /ui or below it. */
export function mayBePublic(url: string): boolean {
  return url === PUBLIC_PREFIX || url.startsWith(`${PUBLIC_PREFIX}/`)
}

export interface RouteInfo {
  readonly method: 'GET' | 'POST'
  readonly url: string
  readonly need: Need
}

/** Events per page of a query or stream when the request names no limit, and the most it may name. */
export const DEFAULT_LIMIT = 100
export const MAX_LIMIT = 1000
