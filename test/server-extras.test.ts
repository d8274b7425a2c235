// The service's operational parts over real HTTP on 127.0.0.1: the
// OpenAPI document at /docs naming every route, per-token rate limits,
// CORS (off by default, exact origins, preflight without a token),
// token expiry and reload, projections by name, whole-store verify.
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, type StoredEvent } from '../src/index.js'
import { hashToken, loadPlugin, type TokenEntry } from '../src/server/index.js'
import { errorOf, served, TOKEN_ENTRIES, TOKENS } from './server-helpers.js'

const A = TOKENS.admin
const K = EventKind.custom(1, 1)

describe('the OpenAPI document', () => {
  it('lists every registered route with a summary, a tag and the bearer scheme, so a route added without docs fails here', async () => {
    const s = await served()
    const r = await s.req('GET', '/docs', { token: TOKENS.shopReader })
    expect(r.status).toBe(200)
    const doc = (await r.json()) as { openapi: string; paths: Record<string, Record<string, { summary?: string; tags?: string[]; security?: unknown; parameters?: Array<{ name: string; in: string }> }>>; components: { securitySchemes: Record<string, unknown> } }
    expect(doc.openapi).toMatch(/^3\./)
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' })
    for (const route of s.server.routes) {
      const p = route.url.replace(/:([A-Za-z]+)/g, '{$1}').replace(/\*$/, '{*}')
      const op = doc.paths[p]?.[route.method.toLowerCase()]
      expect(op, `${route.method} ${route.url} is not in /docs`).toBeDefined()
      expect(op!.summary, `${route.method} ${route.url} has no summary`).toBeTruthy()
      expect(op!.tags?.length, `${route.method} ${route.url} has no tag`).toBe(1)
      // The console's static files are the only routes documented as needing no token.
      expect(op!.security).toEqual(route.need === 'public' ? [] : [{ bearer: [] }])
    }
    expect(doc.paths['/v1/events/{id}']!.get!.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path' })])
    expect((await s.req('GET', '/docs/json', { token: A })).status).toBe(200)
    expect((await s.req('GET', '/docs')).status).toBe(401)
  })

  it('does not validate bodies from the docs: a wrong body keeps its library error code', async () => {
    const s = await served()
    const r = await s.req('POST', '/v1/append', { token: A, body: { entity: 'x', scope: 'shop', kind: 0xd001, payload: 1 } })
    expect(await errorOf(r)).toMatchObject({ status: 400, code: 'E_INVALID_KIND' })
  })
})

describe('rate limits', () => {
  it('answers 429 E_RATE_LIMITED with Retry-After once a token passes its limit, counting each token apart', async () => {
    const s = await served({ rateLimit: { max: 3, timeWindowMs: 60_000 } })
    for (let i = 0; i < 3; i++) expect((await s.req('GET', '/health', { token: TOKENS.reader })).status).toBe(200)
    const over = await s.req('GET', '/health', { token: TOKENS.reader })
    expect(await errorOf(over)).toMatchObject({ status: 429, code: 'E_RATE_LIMITED' })
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await s.req('GET', '/health', { token: TOKENS.appender })).status).toBe(200)
  })

  it('limits requests without a valid token by address before authenticating them, and honours a token entry\'s own limit', async () => {
    const own: TokenEntry = { id: 'bulk', hash: hashToken('bulk-token'), roles: ['read'], rateLimit: { max: 10, timeWindowMs: 60_000 } }
    const s = await served({ rateLimit: { max: 2, timeWindowMs: 60_000 }, tokens: [...TOKEN_ENTRIES, own] })
    const codes = []
    for (let i = 0; i < 3; i++) codes.push((await s.req('GET', '/v1/stats', { token: 'guess' })).status)
    expect(codes).toEqual([401, 401, 429])
    for (let i = 0; i < 5; i++) expect((await s.req('GET', '/health', { token: 'bulk-token' })).status).toBe(200)
  })

  it('sends no rate-limit headers and never 429 with rateLimit: false', async () => {
    const s = await served({ rateLimit: false })
    for (let i = 0; i < 5; i++) {
      const r = await s.req('GET', '/health', { token: A })
      expect(r.status).toBe(200)
      expect(r.headers.get('x-ratelimit-limit')).toBeNull()
    }
  })
})

describe('CORS', () => {
  const preflight = { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' }

  it('sends no Access-Control headers at all by default, and a preflight needs a token like any request', async () => {
    const s = await served()
    const r = await s.req('GET', '/health', { token: A, headers: { origin: 'https://app.example' } })
    expect([...r.headers.keys()].filter((h) => h.startsWith('access-control'))).toEqual([])
    expect((await s.req('OPTIONS', '/v1/append', { headers: preflight })).status).toBe(401)
  })

  it('answers a preflight from an allowed origin without a token and without data, and only that exact origin', async () => {
    const s = await served({ cors: { origins: ['https://app.example'] } })
    const pre = await s.req('OPTIONS', '/v1/append', { headers: preflight })
    expect(pre.status).toBe(204)
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(pre.headers.get('access-control-allow-headers')).toContain('authorization')
    expect(pre.headers.get('access-control-allow-credentials')).toBeNull()
    expect(await pre.text()).toBe('')
    const ok = await s.req('GET', '/health', { token: A, headers: { origin: 'https://app.example' } })
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example')
    const other = await s.req('GET', '/health', { token: A, headers: { origin: 'https://evil.example' } })
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
    expect((await s.req('OPTIONS', '/v1/append', { headers: { ...preflight, origin: 'https://evil.example' } })).status).toBe(401)
    expect((await s.req('GET', '/v1/stats', { headers: { origin: 'https://app.example' } })).status).toBe(401)
  })

  it('refuses a wildcard or a non-origin in cors.origins', async () => {
    for (const origins of [['*'], ['https://app.example/'], ['app.example'], []]) {
      await expect(served({ cors: { origins } }), JSON.stringify(origins)).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' })
    }
  })
})

describe('token expiry and reload', () => {
  it('answers 401 saying the token expired once past expiresAt, and accepts it before', async () => {
    const past: TokenEntry = { id: 'old', hash: hashToken('old-token'), roles: ['admin'], expiresAt: '2001-01-01T00:00:00Z' }
    const future: TokenEntry = { id: 'new', hash: hashToken('new-token'), roles: ['admin'], expiresAt: new Date(Date.now() + 3_600_000).toISOString() }
    const s = await served({ tokens: [past, future] })
    const r = await errorOf(await s.req('GET', '/health', { token: 'old-token' }))
    expect(r).toMatchObject({ status: 401, code: 'E_UNAUTHORIZED' })
    expect(r.message).toContain('expired')
    expect((await s.req('GET', '/health', { token: 'new-token' })).status).toBe(200)
  })

  it('reloads tokens: a removed token is refused, a new one accepted, and bad entries keep the old tokens', async () => {
    const s = await served()
    s.server.reloadTokens([{ id: 'fresh', hash: hashToken('fresh-token'), roles: ['read'] }])
    expect((await s.req('GET', '/health', { token: A })).status).toBe(401)
    expect((await s.req('GET', '/health', { token: 'fresh-token' })).status).toBe(200)
    expect(() => s.server.reloadTokens([{ id: 'x', hash: 'plain', roles: ['read'] } as TokenEntry])).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }))
    expect((await s.req('GET', '/health', { token: 'fresh-token' })).status).toBe(200)
  })
})

describe('projections and verify', () => {
  const total = { name: 'total', version: 1, init: () => ({ sum: 0n, n: 0 }), apply: (s: { sum: bigint; n: number }, e: StoredEvent<{ n: number }>) => ({ sum: s.sum + BigInt(e.payload.n), n: s.n + 1 }) }

  it("lists registered projections and answers an entity's state JSON-safe (bigints as strings); unknown names are 404", async () => {
    const s = await served({ projections: { total } })
    for (const n of [1, 2, 3]) s.store.append(new Coordinate('cart:1', 'shop'), K, { n })
    expect(await (await s.req('GET', '/v1/projections', { token: TOKENS.reader })).json()).toEqual({ projections: [{ name: 'total', version: 1 }] })
    const r = await s.req('GET', '/v1/projections/total/cart:1', { token: TOKENS.reader })
    expect(r.status, await r.clone().text()).toBe(200)
    expect(await r.json()).toMatchObject({ name: 'total', entity: 'cart:1', state: { sum: '6', n: 3 }, position: '2', eventsApplied: 3 })
    expect(await errorOf(await s.req('GET', '/v1/projections/nope/cart:1', { token: TOKENS.reader }))).toMatchObject({ status: 404, code: 'E_NOT_FOUND' })
  })

  it('verifies the whole store and answers the chain report', async () => {
    const s = await served()
    for (const n of [1, 2]) s.store.append(new Coordinate('v:1', 'shop'), K, { n })
    const r = await s.req('POST', '/v1/admin/verify', { token: A, body: {} })
    expect(r.status, await r.clone().text()).toBe(200)
    expect(await r.json()).toEqual({ eventsChecked: 2, contentMismatches: [], brokenLinks: [], missingParents: [], tombstones: 0 })
    expect(await errorOf(await s.req('POST', '/v1/admin/verify', { token: A, body: { deep: true } }))).toMatchObject({ status: 400, code: 'E_INVALID_ARGUMENT' })
  })
})

describe('optional plugins', () => {
  it('throws E_MISSING_DEPENDENCY naming the plugin and the option needing it where a plugin is not installed', () => {
    const missing = (id: string) => {
      throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' })
    }
    expect(() => loadPlugin('@fastify/rate-limit', 'the rateLimit option', missing)).toThrow(
      expect.objectContaining({ code: 'E_MISSING_DEPENDENCY', dependency: '@fastify/rate-limit', message: expect.stringContaining('rateLimit') }),
    )
  })
})
