/**
 * CORS with @fastify/cors, off unless the `cors` option names origins.
 * Only those exact origins get Access-Control headers (no wildcard, no
 * credentials: the service authenticates with bearer tokens, not
 * cookies). A preflight from an allowed origin is answered by the CORS
 * hook before authentication (a browser sends no Authorization header
 * with it) and carries no data; any other OPTIONS request goes on to
 * authentication like every request.
 */
import type { FastifyInstance } from 'fastify'
import { loadPlugin } from './load.js'

export async function addCors(app: FastifyInstance, origins: readonly string[] | undefined): Promise<void> {
  if (origins === undefined) return
  const plugin = loadPlugin('@fastify/cors', 'the cors option') as Parameters<FastifyInstance['register']>[0]
  await app.register(plugin, {
    origin: (origin: string | undefined, cb: (err: Error | null, allow: string | false) => void) => cb(null, origin !== undefined && origins.includes(origin) ? origin : false),
    methods: ['GET', 'HEAD', 'POST'],
    allowedHeaders: ['authorization', 'content-type', 'accept', 'last-event-id'],
    exposedHeaders: ['retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'www-authenticate'],
    credentials: false,
    maxAge: 600,
    strictPreflight: true,
  } as never)
}
