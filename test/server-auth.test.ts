// Authentication and authorisation of the service, through every route:
// the table below must name each route the server registers (a new route
// without an entry here fails the first test), and each is tried without a
// token, with a wrong one, with a token lacking its role, and with a token
// restricted to another scope. Also: tokens files (hashed, 0600), and
// insecureLocal refused off loopback.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, isCausewayError, Region, Store } from '../src/index.js'
import { createToken, hashToken, isLoopback, loadFastify, parseTokens, serve } from '../src/server/index.js'
import { tempDir } from './helpers.js'
import { errorOf, served, TOKENS, type Served } from './server-helpers.js'

const K = EventKind.custom(1, 1)

/**
 * How a route meets scopes: 'scoped' requests name a scope (the token may
 * use its own, not another), 'unscoped' answers span every scope (a
 * scope-restricted token is refused), 'none' tell nothing about events,
 * 'socket' check scopes per message (GET /v1/ws: see server-live.test.ts).
 */
type ScopeRule = 'scoped' | 'unscoped' | 'none' | 'socket'
interface Sample {
  need: 'read' | 'append' | 'admin' | 'any' | 'public'
  scope: ScopeRule
  /** The request, touching `scope` (for 'scoped' routes). */
  make(scope: 'shop' | 'other', ids: Record<'shop' | 'other', string>): { body?: unknown; url?: string }
}

// Each sample's events and selections carry the tag of their scope too, for the tag-restricted tokens.
const item = (scope: string) => ({ entity: `order:${scope}`, scope, kind: K.value, payload: { ok: true }, tags: [`tenant:${scope}`] })
/** The same event as POST /v1/append's body (its tags among the options). */
const single = (scope: string) => {
  const { tags, ...rest } = item(scope)
  return { ...rest, options: { tags } }
}

const ROUTES: Record<string, Sample> = {
  'POST /v1/append': { need: 'append', scope: 'scoped', make: (scope) => ({ body: single(scope) }) },
  'POST /v1/batch': { need: 'append', scope: 'scoped', make: (scope) => ({ body: { items: [item('shop'), item(scope)] } }) },
  'POST /v1/append-if': {
    need: 'append',
    scope: 'scoped',
    make: (scope) => ({ body: { items: [item(scope)], condition: { region: { scope, entity: 'nothing', tags: [`tenant:${scope}`] }, after: null } } }),
  },
  'GET /v1/events/:id': { need: 'read', scope: 'scoped', make: (scope, ids) => ({ url: `/v1/events/${ids[scope]}` }) },
  'GET /v1/streams/:entity': { need: 'read', scope: 'scoped', make: (scope) => ({ url: `/v1/streams/seed:${scope}` }) },
  'POST /v1/query': { need: 'read', scope: 'scoped', make: (scope) => ({ body: { region: { scope, tags: [`tenant:${scope}`] } } }) },
  'GET /v1/live': {
    need: 'read',
    scope: 'scoped',
    make: (scope) => ({ url: `/v1/live?mode=subscription&filter=${encodeURIComponent(JSON.stringify({ region: { scope, tags: [`tenant:${scope}`] } }))}` }),
  },
  // Authenticated on the upgrade request; each message's role and scopes are checked as the HTTP routes do.
  'GET /v1/ws': { need: 'any', scope: 'socket', make: () => ({}) },
  'GET /v1/stats': { need: 'read', scope: 'unscoped', make: () => ({}) },
  'GET /metrics': { need: 'read', scope: 'unscoped', make: () => ({}) },
  'GET /health': { need: 'any', scope: 'none', make: () => ({}) },
  'GET /ready': { need: 'any', scope: 'none', make: () => ({}) },
  'POST /v1/admin/snapshot': { need: 'admin', scope: 'unscoped', make: () => ({ body: { dest: `snap-${Math.random().toString(36).slice(2)}` } }) },
  'POST /v1/admin/compact': { need: 'admin', scope: 'unscoped', make: () => ({ body: {} }) },
  'POST /v1/admin/verify': { need: 'admin', scope: 'unscoped', make: () => ({ body: {} }) },
  'GET /docs': { need: 'any', scope: 'none', make: () => ({}) },
  'GET /docs/json': { need: 'any', scope: 'none', make: () => ({}) },
  'GET /v1/projections': { need: 'read', scope: 'none', make: () => ({}) },
  'GET /v1/projections/:name/:entity': { need: 'read', scope: 'scoped', make: (scope) => ({ url: `/v1/projections/count/seed:${scope}` }) },
  'GET /v1/events/:id/causal': { need: 'read', scope: 'scoped', make: (scope, ids) => ({ url: `/v1/events/${ids[scope]}/causal` }) },
  'GET /v1/events/:id/ancestors': { need: 'read', scope: 'scoped', make: (scope, ids) => ({ url: `/v1/events/${ids[scope]}/ancestors` }) },
  'GET /v1/events/:id/verify': { need: 'read', scope: 'scoped', make: (scope, ids) => ({ url: `/v1/events/${ids[scope]}/verify` }) },
  'GET /v1/segments': { need: 'read', scope: 'unscoped', make: () => ({}) },
  // The console's static files: no data, no token (the only public routes).
  'GET /ui': { need: 'public', scope: 'none', make: () => ({}) },
  'GET /ui/*': { need: 'public', scope: 'none', make: () => ({ url: '/ui/index.html' }) },
}

const COUNT = { name: 'count', version: 1, init: () => 0, apply: (n: number) => n + 1 }

/** Routes answered without any token. */
const isPublic = (key: string) => ROUTES[key]?.need === 'public'

/** A token lacking the role: for read routes one that only appends, else one that only reads. */
const LACKING = { read: TOKENS.appender, append: TOKENS.reader, admin: TOKENS.reader }
/** A token with the role, restricted to scope 'shop'. */
const SCOPED = { read: TOKENS.shopOnly, append: TOKENS.shopOnly, admin: TOKENS.shopAdmin, any: TOKENS.shopReader, public: TOKENS.shopReader }
/** A token with the role, restricted to events tagged tenant:shop. */
const TAGGED = { read: TOKENS.tagOnly, append: TOKENS.tagOnly, admin: TOKENS.tagAdmin, any: TOKENS.tagReader, public: TOKENS.tagReader }

async function seeded(): Promise<{ s: Served; ids: Record<'shop' | 'other', string> }> {
  const s = await served({ backupDir: tempDir('auth-backups'), projections: { count: COUNT } })
  const ids = {
    shop: s.store.append(new Coordinate('seed:shop', 'shop'), K, 1, { tags: ['tenant:shop'] }).eventId,
    other: s.store.append(new Coordinate('seed:other', 'other'), K, 2, { tags: ['tenant:other'] }).eventId,
  }
  return { s, ids }
}

function call(s: Served, key: string, token: string | undefined, scope: 'shop' | 'other', ids: Record<'shop' | 'other', string>) {
  const [method, url] = key.split(' ') as [string, string]
  const r = ROUTES[key]!.make(scope, ids)
  return s.req(method, r.url ?? url, { token, ...(r.body !== undefined ? { body: r.body } : {}), ...(url === '/ui' ? { redirect: 'manual' as const } : {}) })
}

describe('service authentication through every route', () => {
  it('has a test entry, with the same role, for every route the server registers', async () => {
    const { s } = await seeded()
    const registered = Object.fromEntries(s.server.routes.map((r) => [`${r.method} ${r.url}`, r.need]))
    expect(Object.keys(registered).sort()).toEqual(Object.keys(ROUTES).sort())
    for (const [key, sample] of Object.entries(ROUTES)) expect(registered[key], key).toBe(sample.need)
  })

  it('answers 401 E_UNAUTHORIZED on every route (unknown ones too) without a token, with a wrong one, or another scheme, writing nothing', async () => {
    const { s, ids } = await seeded()
    for (const key of [...Object.keys(ROUTES).filter((k) => !isPublic(k)), 'GET /v1/no-such-route']) {
      for (const token of [undefined, 'wrong-token', `${TOKENS.admin}x`]) {
        const r = key in ROUTES ? await call(s, key, token, 'shop', ids) : await s.req('GET', '/v1/no-such-route', { token })
        expect(await errorOf(r), `${key} with ${token ?? 'no token'}`).toMatchObject({ status: 401, code: 'E_UNAUTHORIZED' })
        expect(r.headers.get('www-authenticate')).toBe('Bearer')
      }
      const basic = await s.req(key.split(' ')[0]!, key in ROUTES ? (ROUTES[key]!.make('shop', ids).url ?? key.split(' ')[1]!) : '/v1/x', { headers: { authorization: `Basic ${TOKENS.admin}` } })
      expect(basic.status, `${key} with Basic`).toBe(401)
    }
    expect(s.store.stats().events).toBe(2)
  })

  it('serves the public console files without a token, and only those: a public route outside /ui refuses to register', async () => {
    const { s, ids } = await seeded()
    for (const key of Object.keys(ROUTES).filter(isPublic)) {
      const r = await call(s, key, undefined, 'shop', ids)
      expect(r.status, key).toBe(key.endsWith(' /ui') ? 302 : 200)
    }
    expect((await s.req('GET', '/ui/no-such-file.js')).status).toBe(404)
    const { RouteTable } = await import('../src/server/routes.js')
    const t = new RouteTable({ route: () => undefined } as never, {} as never)
    expect(() => t.add('GET', '/v1/leak', 'public', async () => null)).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }))
    expect(() => t.add('GET', '/uix', 'public', async () => null)).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }))
  })

  it('answers 403 E_FORBIDDEN on every route to a token without the role it needs, writing nothing', async () => {
    const { s, ids } = await seeded()
    for (const [key, sample] of Object.entries(ROUTES)) {
      if (sample.need === 'any' || sample.need === 'public') continue
      const r = await call(s, key, LACKING[sample.need], 'shop', ids)
      expect(await errorOf(r), key).toMatchObject({ status: 403, code: 'E_FORBIDDEN' })
    }
    expect(s.store.stats().events).toBe(2)
  })

  it('lets a scope-restricted token use its own scope on every route, and answers 403 outside it, writing and reading nothing there', async () => {
    const { s, ids } = await seeded()
    for (const [key, sample] of Object.entries(ROUTES)) {
      const token = SCOPED[sample.need]
      if (sample.scope === 'scoped') {
        const outside = await call(s, key, token, 'other', ids)
        expect(await errorOf(outside), `${key} outside its scope`).toMatchObject({ status: 403, code: 'E_FORBIDDEN' })
        const inside = await call(s, key, token, 'shop', ids)
        // A live stream's body never ends: read it only when the status is wrong.
        if (inside.status !== 200) expect.fail(`${key} inside its scope: ${inside.status} ${await inside.text()}`)
        await inside.body?.cancel()
      } else if (sample.scope === 'unscoped') {
        expect(await errorOf(await call(s, key, token, 'shop', ids)), `${key} spans every scope`).toMatchObject({ status: 403, code: 'E_FORBIDDEN' })
      } else if (sample.scope === 'none') {
        expect((await call(s, key, token, 'shop', ids)).status, key).toBe(isPublic(key) && key.endsWith(' /ui') ? 302 : 200)
      }
    }
    // Only the in-scope writes went through: append, batch (2 items), append-if, all in 'shop'.
    expect(s.store.byScope('other')).toHaveLength(1)
    expect(s.store.byScope('shop')).toHaveLength(5)
  })

  it('lets a tag-restricted token write and read only events carrying its tag on every route, and answers 403 for others, writing and reading nothing there', async () => {
    const { s, ids } = await seeded()
    for (const [key, sample] of Object.entries(ROUTES)) {
      const token = TAGGED[sample.need]
      if (sample.scope === 'scoped') {
        const outside = await call(s, key, token, 'other', ids)
        expect(await errorOf(outside), `${key} without its tag`).toMatchObject({ status: 403, code: 'E_FORBIDDEN' })
        const inside = await call(s, key, token, 'shop', ids)
        if (inside.status !== 200) expect.fail(`${key} with its tag: ${inside.status} ${await inside.text()}`)
        await inside.body?.cancel()
      } else if (sample.scope === 'unscoped') {
        expect(await errorOf(await call(s, key, token, 'shop', ids)), `${key} spans every event`).toMatchObject({ status: 403, code: 'E_FORBIDDEN' })
      } else if (sample.scope === 'none') {
        expect((await call(s, key, token, 'shop', ids)).status, key).toBe(isPublic(key) && key.endsWith(' /ui') ? 302 : 200)
      }
    }
    // Only the writes carrying tenant:shop went through: append, batch (2 items), append-if.
    expect(s.store.query(Region.all().withTags('tenant:other'))).toHaveLength(1)
    expect(s.store.query(Region.all().withTags('tenant:shop'))).toHaveLength(5)
  })

  it('refuses a tag-restricted token a selection that does not require its tag (in every item of a DCB query), an untagged write, and a stream with an event lacking it', async () => {
    const { s } = await seeded()
    s.store.append(new Coordinate('mixed', 'shop'), K, 1, { tags: ['tenant:shop'] })
    s.store.append(new Coordinate('mixed', 'shop'), K, 2)
    const t = TOKENS.tagOnly
    const untagged = { entity: 'order:x', scope: 'shop', kind: K.value, payload: 1 }
    const refused: Array<[string, Promise<Response>]> = [
      ['a region without tags', s.req('POST', '/v1/query', { token: t, body: { region: { scope: 'shop' } } })],
      ['a query with an item lacking the tag', s.req('POST', '/v1/query', { token: t, body: { query: { items: [{ tags: ['tenant:shop'] }, { types: [K.value] }] } } })],
      ['every event', s.req('POST', '/v1/query', { token: t, body: { query: { all: true } } })],
      ['an untagged append', s.req('POST', '/v1/append', { token: t, body: untagged })],
      ['an untagged batch item', s.req('POST', '/v1/batch', { token: t, body: { items: [item('shop'), untagged] } })],
      ['a stream with an untagged event', s.req('GET', '/v1/streams/mixed', { token: t })],
    ]
    for (const [what, r] of refused) expect(await errorOf(await r), what).toMatchObject({ status: 403, code: 'E_FORBIDDEN' })
    const ok = await s.req('POST', '/v1/query', { token: t, body: { query: { items: [{ tags: ['tenant:shop'] }, { tags: ['tenant:shop', 'x'] }] } } })
    expect(ok.status).toBe(200)
    expect(s.store.stats().events).toBe(4)
  })

  it('never hands a restricted token the receipt of an event it may not read through an idempotency key used before (append, batch, append-if)', async () => {
    const { s } = await seeded()
    const foreign = s.store.append(new Coordinate('order:other', 'other'), K, 1, { idempotencyKey: 'k-other', tags: ['tenant:other'] })
    const untaggedShop = s.store.append(new Coordinate('order:shop', 'shop'), K, 2, { idempotencyKey: 'k-untagged' })
    const keyed = (key: string) => ({ ...item('shop'), idempotencyKey: key })
    const events = s.store.stats().events
    const attempts: Array<[string, string, Promise<Response>]> = [
      ['append, scope-restricted', foreign.eventId, s.req('POST', '/v1/append', { token: TOKENS.shopOnly, body: { ...single('shop'), options: { tags: ['tenant:shop'], idempotencyKey: 'k-other' } } })],
      ['batch, scope-restricted', foreign.eventId, s.req('POST', '/v1/batch', { token: TOKENS.shopOnly, body: { items: [keyed('k-other')] } })],
      [
        'append-if, scope-restricted',
        foreign.eventId,
        s.req('POST', '/v1/append-if', { token: TOKENS.shopOnly, body: { items: [keyed('k-other')], condition: { region: { scope: 'shop', entity: 'nothing' }, after: null } } }),
      ],
      ['append, tag-restricted', untaggedShop.eventId, s.req('POST', '/v1/append', { token: TOKENS.tagOnly, body: { ...single('shop'), options: { tags: ['tenant:shop'], idempotencyKey: 'k-untagged' } } })],
      ['batch, tag-restricted', foreign.eventId, s.req('POST', '/v1/batch', { token: TOKENS.tagOnly, body: { items: [keyed('k-other')] } })],
    ]
    for (const [what, hidden, pending] of attempts) {
      const r = await pending
      const text = await r.text()
      expect(r.status, `${what}: ${text}`).toBe(403)
      expect(JSON.parse(text).error.code, what).toBe('E_FORBIDDEN')
      expect(text, what).not.toContain(hidden)
    }
    expect(s.store.stats().events).toBe(events)
    // The token's own keyed append, sent again, still gets its receipt.
    const first = await s.req('POST', '/v1/append', { token: TOKENS.shopOnly, body: { ...single('shop'), options: { tags: ['tenant:shop'], idempotencyKey: 'k-mine' } } })
    const again = await s.req('POST', '/v1/append', { token: TOKENS.shopOnly, body: { ...single('shop'), options: { tags: ['tenant:shop'], idempotencyKey: 'k-mine' } } })
    expect(first.status).toBe(200)
    expect(again.status).toBe(200)
    const [a, b] = [(await first.json()) as { eventId: string }, (await again.json()) as { eventId: string; deduplicated: boolean }]
    expect(b).toMatchObject({ eventId: a.eventId, deduplicated: true })
  })

  it('refuses a scope-restricted token a query or condition that names no scope (a DCB query, an unscoped region), and a stream reaching outside', async () => {
    const { s } = await seeded()
    s.store.append(new Coordinate('mixed', 'shop'), K, 1)
    s.store.append(new Coordinate('mixed', 'other'), K, 2)
    const t = TOKENS.shopOnly
    const refused: Array<[string, Promise<Response>]> = [
      ['an unscoped region', s.req('POST', '/v1/query', { token: t, body: { region: { entity: 'seed' } } })],
      ['a DCB query', s.req('POST', '/v1/query', { token: t, body: { query: { items: [{ types: [K.value] }] } } })],
      ['a DCB condition', s.req('POST', '/v1/append-if', { token: t, body: { items: [item('shop')], condition: { query: { items: [{ tags: ['x'] }] }, after: null } } })],
      ['a stream with an event in another scope', s.req('GET', '/v1/streams/mixed', { token: t })],
    ]
    for (const [what, r] of refused) expect(await errorOf(await r), what).toMatchObject({ status: 403, code: 'E_FORBIDDEN' })
    expect(s.store.stats().events).toBe(4)
  })
})

describe('tokens files', () => {
  it('stores only the SHA-256 of a created token, in a new file of mode 0600, and the token then authenticates with its roles', async () => {
    const file = path.join(tempDir('tokens'), 'tokens.jsonl')
    const { token } = createToken(file, ['read'], ['shop'], 'ci')
    createToken(file, ['admin'])
    const text = fs.readFileSync(file, 'utf8')
    expect(text).not.toContain(token)
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    const entries = parseTokens(text)
    expect(entries).toHaveLength(2)
    expect(entries[0]).toEqual({ id: 'ci', hash: hashToken(token), roles: ['read'], scopes: ['shop'] })
    const s = await served({ tokens: file })
    expect((await s.req('GET', '/health', { token })).status).toBe(200)
    expect((await s.req('POST', '/v1/append', { token, body: single('shop') })).status).toBe(403)
  })

  it('keeps a JSON-array tokens file an array when a token is added', () => {
    const file = path.join(tempDir('tokens'), 'tokens.json')
    fs.writeFileSync(file, JSON.stringify([{ id: 'old', hash: hashToken('x'), roles: ['read'] }]), { mode: 0o600 })
    createToken(file, ['append'])
    const list = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown[]
    expect(list).toHaveLength(2)
  })

  it('refuses a tokens file holding a plain-text token, a bad hash, or an unknown role', () => {
    const bad = [
      { id: 'a', token: 'secret', roles: ['read'] },
      { id: 'a', hash: 'sha256:1234', roles: ['read'] },
      { id: 'a', hash: hashToken('x'), roles: ['root'] },
      { id: 'a', hash: hashToken('x'), roles: ['read'], scopes: [] },
    ]
    for (const e of bad) expect(() => parseTokens(JSON.stringify(e)), JSON.stringify(e)).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }))
    // Tags as events carry them: no empty list, no control character, no tag over 128 bytes.
    expect(() => parseTokens(JSON.stringify({ id: 'a', hash: hashToken('x'), roles: ['read'], tags: [] }))).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }))
    for (const tags of [['a\u0001b'], ['t'.repeat(129)], [7]]) {
      expect(() => parseTokens(JSON.stringify({ id: 'a', hash: hashToken('x'), roles: ['read'], tags })), JSON.stringify(tags)).toThrow(expect.objectContaining({ code: 'E_INVALID_TAG' }))
    }
    expect(parseTokens(JSON.stringify({ id: 'a', hash: hashToken('x'), roles: ['read'], tags: ['t:1', 't:1', 't:2'] }))[0]!.tags).toEqual(['t:1', 't:2'])
  })
})

describe('serve without authentication', () => {
  it('refuses insecureLocal on a non-loopback host, and a server with neither tokens nor insecureLocal', async () => {
    const store = Store.open({ dataDir: tempDir('insecure') })
    try {
      for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com']) {
        await expect(serve(store, { host, insecureLocal: true }), host).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' })
      }
      await expect(serve(store, {})).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' })
      await expect(serve(store, { http2: true, insecureLocal: true })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' })
    } finally {
      store.close()
    }
    expect(['127.0.0.1', '127.3.4.5', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'].every(isLoopback)).toBe(true)
    expect(['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'local'].some(isLoopback)).toBe(false)
  })

  it('serves without a token with insecureLocal on 127.0.0.1', async () => {
    const s = await served({ insecureLocal: true })
    expect((await s.req('POST', '/v1/append', { body: single('shop') })).status).toBe(200)
    expect((await s.req('GET', '/v1/stats')).status).toBe(200)
  })

  it('throws E_MISSING_DEPENDENCY naming fastify where fastify is not installed', () => {
    const missing = (id: string) => {
      throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' })
    }
    let err: unknown
    try {
      loadFastify(missing)
    } catch (e) {
      err = e
    }
    expect(isCausewayError(err, 'E_MISSING_DEPENDENCY')).toBe(true)
    expect(err).toMatchObject({ dependency: 'fastify', message: expect.stringContaining('npm install fastify') })
  })
})
