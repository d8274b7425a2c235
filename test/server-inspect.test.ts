// The inspection routes (causal graph, ancestors, chain verification,
// segments) and the console's static files: answers, bad input, scopes,
// a corrupt chain reported (not a 500), and static serving that refuses
// path traversal and symlinks and sets its CSP.
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, Store } from '../src/index.js'
import { tamperPayload } from './format-helpers.js'
import { serve } from '../src/server/index.js'
import { findUiDir, findVizBuild, listFiles } from '../src/server/routes-ui.js'
import { tempDir } from './helpers.js'
import { errorOf, served, TOKEN_ENTRIES, TOKENS } from './server-helpers.js'

const K = EventKind.custom(1, 1)
const T = TOKENS.reader

/** order placed -> paid -> shipped (shipped in another scope), each caused by the one before. */
function chain(store: Store) {
  const placed = store.append(new Coordinate('order:1', 'shop'), K, { step: 'placed' })
  const paid = store.append(new Coordinate('order:1', 'shop'), K, { step: 'paid' }, { causationId: placed.eventId })
  const shipped = store.append(new Coordinate('parcel:1', 'depot'), K, { step: 'shipped' }, { causationId: paid.eventId })
  return { placed: placed.eventId, paid: paid.eventId, shipped: shipped.eventId }
}

describe('inspection routes', () => {
  it('answers the causal graph, ancestors and segments of a store, with bigints as strings and no server paths', async () => {
    const s = await served()
    const ids = chain(s.store)
    const g = (await (await s.req('GET', `/v1/events/${ids.paid}/causal`, { token: T })).json()) as Record<string, any>
    expect(g.root).toBe(ids.paid)
    expect(g.nodes.map((n: any) => n.eventId)).toEqual([ids.placed, ids.paid, ids.shipped])
    expect(g.edges).toEqual([{ cause: ids.placed, effect: ids.paid }, { cause: ids.paid, effect: ids.shipped }])
    expect(g.truncated).toBe(false)
    const causes = (await (await s.req('GET', `/v1/events/${ids.paid}/causal?direction=causes&maxDepth=0`, { token: T })).json()) as Record<string, any>
    expect(causes).toMatchObject({ truncated: true, edges: [] })
    // A bounded answer: maxNodes cuts the walk, says so, and names no event it left out.
    const two = (await (await s.req('GET', `/v1/events/${ids.paid}/causal?maxNodes=2`, { token: T })).json()) as Record<string, any>
    expect(two.nodes.map((n: any) => n.eventId)).toEqual([ids.placed, ids.paid])
    expect(two).toMatchObject({ truncated: true, edges: [{ cause: ids.placed, effect: ids.paid }] })

    const a = (await (await s.req('GET', `/v1/events/${ids.paid}/ancestors?limit=5`, { token: T })).json()) as Record<string, any>
    expect(a.events.map((e: any) => e.eventId)).toEqual([ids.paid, ids.placed])
    expect(a.stop).toBe('genesis')
    expect(((await (await s.req('GET', `/v1/events/${ids.paid}/ancestors?limit=1`, { token: T })).json()) as { stop: string }).stop).toBe('limit')

    const segs = (await (await s.req('GET', '/v1/segments', { token: T })).json()) as { segments: Array<Record<string, unknown>> }
    expect(segs.segments.length).toBeGreaterThan(0)
    expect(segs.segments[0]).toMatchObject({ baseSequence: '0', active: true })
    expect(String(segs.segments[0]!.file)).not.toContain(path.sep)
  })

  it('refuses bad parameters and unknown ids with typed errors', async () => {
    const s = await served()
    const ids = chain(s.store)
    const bad: Array<[string, number, string]> = [
      [`/v1/events/${ids.paid}/causal?direction=sideways`, 400, 'E_INVALID_ARGUMENT'],
      [`/v1/events/${ids.paid}/causal?maxDepth=-1`, 400, 'E_INVALID_ARGUMENT'],
      [`/v1/events/${ids.paid}/causal?maxDepth=100000`, 400, 'E_INVALID_ARGUMENT'],
      [`/v1/events/${ids.paid}/causal?depth=2`, 400, 'E_INVALID_ARGUMENT'],
      [`/v1/events/${ids.paid}/causal?maxNodes=0`, 400, 'E_INVALID_ARGUMENT'],
      [`/v1/events/${ids.paid}/causal?maxNodes=100001`, 400, 'E_INVALID_ARGUMENT'],
      [`/v1/events/${ids.paid}/ancestors?limit=0`, 400, 'E_INVALID_ARGUMENT'],
      [`/v1/events/not-a-uuid/verify`, 400, 'E_INVALID_ARGUMENT'],
      [`/v1/events/0190a0a0-0000-7000-8000-000000000000/causal`, 404, 'E_NOT_FOUND'],
      [`/v1/events/0190a0a0-0000-7000-8000-000000000000/verify`, 404, 'E_NOT_FOUND'],
    ]
    for (const [url, status, code] of bad) expect(await errorOf(await s.req('GET', url, { token: T })), url).toMatchObject({ status, code })
  })

  it('refuses a scope-restricted token a causal graph reaching outside its scopes (403, not a trimmed graph), and the segment list', async () => {
    const s = await served()
    const ids = chain(s.store)
    const t = TOKENS.shopReader
    expect(await errorOf(await s.req('GET', `/v1/events/${ids.paid}/causal`, { token: t }))).toMatchObject({ status: 403, code: 'E_FORBIDDEN' })
    const inside = await s.req('GET', `/v1/events/${ids.paid}/causal?direction=causes`, { token: t })
    expect(inside.status).toBe(200)
    expect(((await inside.json()) as { nodes: unknown[] }).nodes).toHaveLength(2)
    expect((await s.req('GET', `/v1/events/${ids.paid}/verify`, { token: t })).status).toBe(200)
    expect(await errorOf(await s.req('GET', '/v1/segments', { token: t }))).toMatchObject({ status: 403, code: 'E_FORBIDDEN' })
  })

  it('verifies an event chain from genesis, and reports a tampered payload as ok: false naming the event instead of answering 500', async () => {
    const dir = tempDir('inspect-tamper')
    let store = Store.open({ dataDir: dir })
    const a = new Coordinate('acct:1', 'bank')
    const ids = [1, 2, 3].map((n) => store.append(a, K, { n, note: `entry-${n}` }).eventId)
    store.close()
    tamperPayload(dir, 1n, (p) => { p[p.length - 2]! ^= 0x01 })
    store = Store.open({ dataDir: dir })
    const server = await serve(store, { tokens: TOKEN_ENTRIES })
    try {
      const get = async (id: string) => (await fetch(`${server.url}/v1/events/${id}/verify`, { headers: { authorization: `Bearer ${T}` }, signal: AbortSignal.timeout(5000) })).json() as Promise<Record<string, any>>
      expect(await get(ids[0]!)).toMatchObject({ ok: true, checked: 1, clock: 1, contentMismatches: [], brokenLinks: [] })
      const bad = await get(ids[2]!)
      expect(bad).toMatchObject({ ok: false, checked: 3, entity: 'acct:1' })
      expect(bad.contentMismatches).toEqual([{ eventId: ids[1], globalSequence: '1' }])
      expect(bad.brokenLinks.map((l: any) => l.eventId)).toEqual([ids[2]])
    } finally {
      await server.close()
      store.close()
    }
  })
})

describe('console static files', () => {
  it('serves the console with a strict CSP and nosniff, without a token', async () => {
    const s = await served()
    const page = await s.req('GET', '/ui/')
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toContain('text/html')
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'")
    expect(page.headers.get('content-security-policy')).toContain("'wasm-unsafe-eval'")
    expect(page.headers.get('content-security-policy')).not.toContain("'unsafe-inline'")
    expect(page.headers.get('x-content-type-options')).toBe('nosniff')
    expect(await page.text()).toContain('app.js')
    const js = await s.req('GET', '/ui/app.js')
    expect(js.headers.get('content-type')).toContain('text/javascript')
    const viz = await s.req('GET', '/ui/vendor/viz.js')
    expect(viz.status).toBe(200)
    expect((await s.req('GET', '/ui', { redirect: 'manual' })).headers.get('location')).toBe('/ui/')
  })

  it('answers 404 to path traversal, encoded or not, to names outside the listed files, and to the API without a token still 401', async () => {
    const s = await served()
    for (const p of ['../package.json', '..%2fpackage.json', '%2e%2e/%2e%2e/package.json', 'vendor/../../package.json', '.hidden', 'index.html%00.js', '/etc/passwd']) {
      // Raw on a socket: fetch would normalise the dots away before sending.
      const status = await rawStatus(s.server.url, `/ui/${p}`)
      expect(status, p).toBe(404)
    }
    expect((await s.req('GET', '/v1/segments')).status).toBe(401)
  })

  it('lists neither symlinks (even to files inside) nor dot-files nor unknown types among the files it may serve', () => {
    const dir = tempDir('ui-list')
    fs.mkdirSync(path.join(dir, 'sub'))
    fs.writeFileSync(path.join(dir, 'index.html'), 'x')
    fs.writeFileSync(path.join(dir, 'sub', 'a.js'), 'x')
    fs.writeFileSync(path.join(dir, '.env'), 'secret')
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'x')
    fs.symlinkSync('/etc/hostname', path.join(dir, 'out.js'))
    fs.symlinkSync(path.join(dir, 'index.html'), path.join(dir, 'in.html'))
    expect([...listFiles(dir).keys()].sort()).toEqual(['index.html', 'sub/a.js'])
    expect(findUiDir()).toBe(path.resolve(__dirname, '..', 'ui'))
  })

  it('finds Graphviz\'s browser build beside the package\'s require entry, and nothing where @viz-js/viz is not installed (the page then lists the graph)', () => {
    expect(findVizBuild()).toMatch(/@viz-js[\\/]viz[\\/]dist[\\/]viz\.js$/)
    const missing = (id: string): string => {
      throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' })
    }
    expect(findVizBuild(missing)).toBeUndefined()
  })
})

/** The status line of a GET sent as written, byte for byte. */
function rawStatus(url: string, target: string): Promise<number> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(u.port), u.hostname, () => sock.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`))
    let data = ''
    sock.setTimeout(5000, () => { sock.destroy(); reject(new Error('timeout')) })
    sock.on('data', (d) => (data += d.toString()))
    sock.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0)))
    sock.on('error', reject)
  })
}
