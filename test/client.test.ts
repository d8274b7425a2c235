// causeway/client against a real server: every method, the library's error
// classes over the wire, retries only where a request is idempotent (a lost
// answer to a keyed append yields one event; an unkeyed one is never
// resent), and live iterators resuming across a server restart.
import { describe, expect, it } from 'vitest'
import {
  AppendConditionError,
  connect,
  ForbiddenError,
  InvalidArgumentError,
  SequenceMismatchError,
  ServiceUnavailableError,
  UnauthorizedError,
  type StoredEvent,
} from '../src/client/index.js'
import { Coordinate, EventKind, isCausewayError } from '../src/index.js'
import { serve, type Server } from '../src/server/index.js'
import { served, TOKEN_ENTRIES, TOKENS } from './server-helpers.js'

const K = EventKind.custom(1, 1)
const shop = (entity: string) => ({ entity, scope: 'shop' })

/** A fetch that loses the answer to its first `n` calls after the server handled them (a dropped connection). */
function losingFetch(n: number): { fetch: typeof fetch; calls: () => number } {
  let calls = 0
  return {
    calls: () => calls,
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      calls++
      const res = await fetch(input, init)
      if (calls <= n) {
        await res.arrayBuffer()
        throw new TypeError('fetch failed: socket hang up')
      }
      return res
    }) as typeof fetch,
  }
}

async function first<T>(it: AsyncIterator<T>, n: number, timeoutMs = 5000): Promise<T[]> {
  const out: T[] = []
  const deadline = Date.now() + timeoutMs
  while (out.length < n) {
    const r = await Promise.race([it.next(), new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`timed out after ${out.length} of ${n}`)), deadline - Date.now()))])
    if (r.done) throw new Error('the iterator ended')
    out.push(r.value)
  }
  return out
}

describe('causeway/client', () => {
  it('mirrors Store: append, appendBatch, appendIf, get, stream and query (paged), stats, health, ready; bigints where the library has them', async () => {
    const s = await served()
    const c = connect(s.server.url, { token: TOKENS.admin })
    const r = await c.append(shop('o1'), K, { n: 1 }, { tags: ['t'] })
    expect(typeof r.globalSequence).toBe('bigint')
    expect(r).toMatchObject({ clock: 1, deduplicated: false })
    const lib = s.store.get(r.eventId)!
    expect(r.globalSequence).toBe(lib.globalSequence)
    const batch = await c.appendBatch([{ coord: shop('o1'), kind: K.value, payload: 2 }, { coord: shop('o2'), kind: K, payload: 3 }])
    expect(batch.map((b) => b.globalSequence)).toEqual([1n, 2n])
    const e = (await c.get(r.eventId))!
    expect(e).toMatchObject({ eventId: r.eventId, globalSequence: 0n, coordinate: shop('o1'), kind: K.value, payload: { n: 1 }, tags: ['t'], contentHash: lib.contentHash })
    expect(await c.get('00000000-0000-0000-0000-000000000000').catch((x) => x)).toSatisfy((x) => x === undefined || isCausewayError(x))
    expect((await c.stream('o1', { limit: 1 }).toArray()).map((x) => x.payload)).toEqual([{ n: 1 }, 2])
    const pages: number[] = []
    for await (const p of c.query({ region: { scope: 'shop' } }, { limit: 2 }).pages()) pages.push(p.length)
    expect(pages).toEqual([2, 1])
    const seen: bigint[] = []
    for await (const x of c.query({ query: { all: true } }, { after: 0n })) seen.push(x.globalSequence)
    expect(seen).toEqual([1n, 2n])
    const ok = await c.appendIf([{ coord: shop('o3'), kind: K, payload: 4 }], { failIfEventsMatch: { region: { entity: 'o3' } }, after: null })
    expect(ok).toHaveLength(1)
    expect(await c.stats()).toMatchObject({ events: 4 })
    expect(await c.health()).toEqual({ status: 'ok' })
    expect(await c.ready()).toMatchObject({ ready: true })
  })

  it('throws the library error classes with their codes (conflict, bad input, auth), writing nothing', async () => {
    const s = await served()
    const c = connect(s.server.url, { token: TOKENS.shopOnly })
    await c.append(shop('o'), K, 1)
    const cases: Array<[() => Promise<unknown>, new (...a: never[]) => Error, string]> = [
      [() => c.append(shop('o'), K, 2, { expectedSequence: 5 }), SequenceMismatchError, 'E_SEQUENCE_MISMATCH'],
      [() => c.appendIf([{ coord: shop('o'), kind: K, payload: 3 }], { failIfEventsMatch: { region: { scope: 'shop' } }, after: null }), AppendConditionError, 'E_APPEND_CONDITION'],
      [() => c.append(shop('o'), 'NoSuchType', 3), Error, 'E_UNKNOWN_TYPE'],
      [() => c.append({ entity: 'o', scope: 'other' }, K, 4), ForbiddenError, 'E_FORBIDDEN'],
      [() => c.query({ region: { bogus: 1 } }).toArray(), InvalidArgumentError, 'E_INVALID_ARGUMENT'],
      [() => connect(s.server.url, { token: 'wrong' }).stats(), UnauthorizedError, 'E_UNAUTHORIZED'],
    ]
    for (const [p, Cls, code] of cases) {
      const err = await p().then(() => undefined, (x: unknown) => x)
      expect(err, code).toBeInstanceOf(Cls)
      expect((err as { code: string }).code).toBe(code)
    }
    expect(s.store.stats().events).toBe(1)
  })

  it('retries a keyed append whose answer was lost and gets one event; never resends an unkeyed one', async () => {
    const s = await served()
    const lossy = losingFetch(1)
    const c = connect(s.server.url, { token: TOKENS.appender, fetch: lossy.fetch, backoffMs: 5 })
    const r = await c.append(shop('k'), K, 1, { idempotencyKey: 'order-k-1' })
    expect(lossy.calls()).toBe(2)
    expect(r.deduplicated).toBe(true)
    expect(s.store.stats().events).toBe(1)
    const once = losingFetch(1)
    const u = connect(s.server.url, { token: TOKENS.appender, fetch: once.fetch, backoffMs: 5 })
    await expect(u.append(shop('u'), K, 1)).rejects.toBeInstanceOf(ServiceUnavailableError)
    expect(once.calls()).toBe(1)
    expect(s.store.stats().events).toBe(2)
  })

  it('retries a keyed append across a server restart on the same port, and fails typed when nothing answers', async () => {
    const s = await served()
    const port = Number(new URL(s.server.url).port)
    await s.server.close()
    const c = connect(s.server.url, { token: TOKENS.appender, backoffMs: 50, retries: 6 })
    let again: Server | undefined
    const restart = new Promise<void>((res) => setTimeout(() => void serve(s.store, { tokens: TOKEN_ENTRIES, port }).then((srv) => ((again = srv), res())), 120))
    try {
      const r = await c.append(shop('r'), K, 1, { idempotencyKey: 'restart-1' })
      await restart
      expect(r.deduplicated).toBe(false)
      expect(s.store.stats().events).toBe(1)
    } finally {
      await restart
      await again?.close()
    }
    const dead = connect(s.server.url, { retries: 1, backoffMs: 5 })
    await expect(dead.health()).rejects.toMatchObject({ code: 'E_SERVICE_UNAVAILABLE' })
  })

  it('resumes a cursor after the server restarts with no gap and no repeat; break closes it', async () => {
    const s = await served()
    const port = Number(new URL(s.server.url).port)
    const c = connect(s.server.url, { token: TOKENS.reader, backoffMs: 50, retries: 10 })
    const it = c.cursor<number>({ region: { scope: 'shop' } })[Symbol.asyncIterator]()
    s.store.append(new Coordinate('a', 'shop'), K, 1)
    s.store.append(new Coordinate('a', 'shop'), K, 2)
    const before = await first(it, 2)
    await s.server.close()
    s.store.append(new Coordinate('a', 'shop'), K, 3)
    s.store.append(new Coordinate('a', 'other'), K, 99)
    const again = await serve(s.store, { tokens: TOKEN_ENTRIES, port })
    try {
      const after = await first(it, 1)
      s.store.append(new Coordinate('a', 'shop'), K, 4)
      after.push(...(await first(it, 1)))
      expect([...before, ...after].map((e: StoredEvent<number>) => e.payload)).toEqual([1, 2, 3, 4])
      await it.return?.(undefined)
      // The subscription flavour too: events from now on.
      const sub = c.subscribe<number>()
      const subIt = sub[Symbol.asyncIterator]()
      const got = first(subIt, 1)
      await new Promise((r) => setTimeout(r, 150))
      s.store.append(new Coordinate('b', 'shop'), K, 5)
      expect((await got).map((e) => e.payload)).toEqual([5])
      await subIt.return?.(undefined)
    } finally {
      await again.close()
    }
  })
})

describe('causeway/client in browsers', () => {
  it('imports no node: module and not the addon: only its own files and the dependency-free errors module', async () => {
    const fs = await import('node:fs')
    const path = await import('node:path')
    const dir = path.join(__dirname, '../src/client')
    for (const f of fs.readdirSync(dir)) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8')
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) expect(m[1], `${f} imports ${m[1]}`).toMatch(/^\.\/[a-z-]+\.js$|^\.\.\/errors\.js$/)
    }
    expect(fs.readFileSync(path.join(dir, '../errors.ts'), 'utf8')).not.toMatch(/^import /m)
  })
})
