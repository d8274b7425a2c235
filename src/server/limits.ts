/**
 * Per-token rate limits with @fastify/rate-limit. One onRequest hook,
 * registered before CORS and authentication, counts every request: by
 * token id when the request carries a valid token, else by client
 * address, so unauthenticated traffic is limited before anything else
 * is done for it. A token entry's own `rateLimit` replaces the server's.
 * Over the limit: 429 E_RATE_LIMITED with Retry-After (seconds).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { RateLimitedError, UnauthorizedError } from '../errors.js'
import { identify } from './auth.js'
import { loadPlugin } from './load.js'
import type { TokenEntry, TokenRateLimit } from './tokens.js'

interface LimitResult {
  isAllowed: boolean
  isExceeded?: boolean
  max?: number
  remaining?: number
  ttl?: number
  ttlInSeconds?: number
}

type Check = (req: FastifyRequest) => Promise<LimitResult>

export async function addRateLimit(app: FastifyInstance, limit: TokenRateLimit | false, tokens: () => readonly TokenEntry[] | undefined): Promise<void> {
  if (limit === false) return
  const plugin = loadPlugin('@fastify/rate-limit', 'the rateLimit option (give rateLimit: false to serve without one)') as Parameters<FastifyInstance['register']>[0]
  // global: false: no per-route hooks; the hook below runs the limiter itself, first.
  await app.register(plugin, { global: false } as never)
  const own = (req: FastifyRequest): TokenRateLimit | undefined => {
    const id = identify(req, tokens())
    return id instanceof UnauthorizedError ? undefined : id.rateLimit
  }
  const check = (app as unknown as { createRateLimit(o: Record<string, unknown>): Check }).createRateLimit({
    keyGenerator: (req: FastifyRequest) => {
      const id = identify(req, tokens())
      return id instanceof UnauthorizedError ? `ip:${req.ip}` : `token:${id.id}`
    },
    max: (req: FastifyRequest) => own(req)?.max ?? limit.max,
    timeWindow: (req: FastifyRequest) => own(req)?.timeWindowMs ?? limit.timeWindowMs,
  })
  app.addHook('onRequest', async (req, reply) => {
    const r = await check(req)
    if (r.isAllowed) return
    reply.header('x-ratelimit-limit', r.max)
    reply.header('x-ratelimit-remaining', r.remaining)
    if (r.isExceeded) {
      const seconds = Math.max(1, r.ttlInSeconds ?? 1)
      reply.header('retry-after', seconds)
      throw new RateLimitedError(`rate limit exceeded: at most ${r.max} requests per window; retry in ${seconds} s`, { retryAfterMs: r.ttl ?? seconds * 1000 })
    }
  })
}
