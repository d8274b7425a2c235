// Views across entities (src/views): a state per key folded over every
// event a query matches, kept in lmdb with its position. In-process
// behaviour here; crashes, other processes and the CLI in
// views-processes.test.ts.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Coordinate, isCausewayError, Query, type StoredEvent, Store } from '../src/index.js'
import { loadLmdb } from '../src/views/lmdb-backend.js'
import { repoRoot, tempDir } from './helpers.js'

interface Total {
  count: number
  sum: number
}
type Order = { customer: string; amount: number }

const byCustomer = {
  query: Query.of({ types: ['order.placed'] }),
  version: 1,
  init: (): Total => ({ count: 0, sum: 0 }),
  apply: (s: Total, e: StoredEvent<Order>): Total => ({ count: s.count + 1, sum: s.sum + e.payload.amount }),
  key: (e: StoredEvent<Order>) => e.payload.customer,
}

function shop(dir: string): Store {
  const s = Store.open({ dataDir: dir })
  s.types.define('order.placed')
  s.types.define('order.noted')
  return s
}

function place(s: Store, n: number, from = 0): void {
  for (let i = from; i < from + n; i++) {
    s.append(new Coordinate(`order:${i}`, 'shop'), 'order.placed', { customer: `c${i % 3}`, amount: i })
    s.append(new Coordinate(`order:${i}`, 'shop'), 'order.noted', { note: i })
  }
}

/** The same fold written over query(): what the view must hold. */
function expected(s: Store): Map<string, Total> {
  const m = new Map<string, Total>()
  for (const e of s.query<Order>(byCustomer.query)) m.set(e.payload.customer, byCustomer.apply(m.get(e.payload.customer) ?? byCustomer.init(), e))
  return m
}

/** The log's end: the type definitions are events too. */
const end = (s: Store): bigint => s.stats().nextSequence

function codeOf(f: () => unknown): string | undefined {
  try {
    f()
  } catch (e) {
    return isCausewayError(e) ? e.code : `not a causeway error: ${String(e)}`
  }
  return undefined
}

describe('views', () => {
  it('reads by key what a fold over the query gives, and after a reopen folds only the newer events', () => {
    const dir = tempDir('view')
    let s = shop(dir)
    place(s, 30)
    let v = s.view('by-customer', byCustomer)
    expect(v.lag).toBe(end(s))
    expect(v.catchUp()).toBe(30)
    expect(v.lag).toBe(0n)
    expect(v.size).toBe(3)
    expect(new Map(v.entries())).toEqual(expected(s))
    expect(v.get('c1')).toEqual({ count: 10, sum: [...Array(30).keys()].filter((i) => i % 3 === 1).reduce((a, b) => a + b, 0) })
    expect(v.get('nobody')).toBeUndefined()
    s.close()
    expect(v.isClosed).toBe(true)

    s = shop(dir)
    place(s, 6, 30)
    v = s.view('by-customer', byCustomer)
    expect(v.position).toBe(end(s) - 12n)
    expect(v.catchUp()).toBe(6)
    expect(new Map(v)).toEqual(expected(s))
    expect(v.status()).toMatchObject({ name: 'by-customer', version: 1, storage: 'lmdb', position: end(s), end: end(s), lag: 0n, size: 3 })
    s.close()
  })

  it('an apply that throws stops the view at that event, commits the events before it and nothing of it, and names it', () => {
    const dir = tempDir('view-throw')
    const s = shop(dir)
    place(s, 10)
    const bad = s.query(byCustomer.query)[7]!
    const v = s.view('fragile', {
      ...byCustomer,
      // Changes its state in place before throwing: that change must not reach the view.
      apply: (st: Total, e: StoredEvent<Order>) => {
        st.count++
        st.sum += e.payload.amount
        if (e.eventId === bad.eventId) throw new Error('amount refused')
        return st
      },
    })
    let err: unknown
    try {
      v.catchUp()
    } catch (e) {
      err = e
    }
    expect(isCausewayError(err, 'E_VIEW_APPLY')).toBe(true)
    expect((err as Error).message).toContain(bad.eventId)
    expect(err).toMatchObject({ view: 'fragile', eventId: bad.eventId, globalSequence: bad.globalSequence, position: bad.globalSequence })
    expect(((err as Error).cause as Error).message).toBe('amount refused')
    expect(v.position).toBe(bad.globalSequence)
    expect(v.status().failure).toMatchObject({ eventId: bad.eventId, globalSequence: bad.globalSequence })
    // c1 holds orders 1 and 4 (7 failed), c0 orders 0, 3, 6, c2 orders 2, 5.
    expect(v.get('c1')).toEqual({ count: 2, sum: 5 })
    expect(v.get('c0')).toEqual({ count: 3, sum: 9 })
    expect(v.get('c2')).toEqual({ count: 2, sum: 7 })
    // It fails again on the same event, never past it.
    expect(codeOf(() => v.catchUp())).toBe('E_VIEW_APPLY')
    expect(v.get('c1')).toEqual({ count: 2, sum: 5 })
    v.close()
    // Fixed code under a new version rebuilds it from scratch.
    const fixed = s.view('fragile', { ...byCustomer, version: 2 })
    expect(fixed.status().resetOnOpen).toBe('version')
    fixed.catchUp()
    expect(new Map(fixed)).toEqual(expected(s))
    s.close()
  })

  it('an apply that fails on an earlier event when the good ones are folded again stops the view there, never past it', () => {
    const dir = tempDir('view-flaky')
    const s = shop(dir)
    place(s, 10)
    const placed = s.query(byCustomer.query)
    let tries = 0
    const v = s.view('flaky', {
      ...byCustomer,
      apply: (st: Total, e: StoredEvent<Order>) => {
        // The first pass fails on order 7; the refold of orders 0..6 fails on order 3.
        if (e.eventId === placed[7]!.eventId || (e.eventId === placed[3]!.eventId && tries++ > 0)) throw new Error('flaky')
        return byCustomer.apply(st, e)
      },
    })
    expect(() => v.catchUp()).toThrow(expect.objectContaining({ code: 'E_VIEW_APPLY', eventId: placed[3]!.eventId, position: placed[3]!.globalSequence }))
    expect(v.position).toBe(placed[3]!.globalSequence)
    expect([...v].reduce((n, [, t]) => n + t.count, 0)).toBe(3)
    s.close()
  })

  it('follow() rejects with the failing event and leaves the view waiting at it', async () => {
    const dir = tempDir('view-follow-throw')
    const s = shop(dir)
    place(s, 4)
    const bad = s.query(byCustomer.query)[2]!
    const v = s.view('follow-throw', {
      ...byCustomer,
      apply: (st: Total, e: StoredEvent<Order>) => {
        if (e.eventId === bad.eventId) throw new Error('no')
        return byCustomer.apply(st, e)
      },
    })
    await expect(v.follow()).rejects.toMatchObject({ code: 'E_VIEW_APPLY', eventId: bad.eventId })
    expect(v.status()).toMatchObject({ following: false, position: bad.globalSequence, failure: { eventId: bad.eventId } })
    expect(v.size).toBe(2)
    s.close()
  })

  it('a view holding events the log lost (a cut tail, refilled or not) is emptied and folded again, never trusted', () => {
    const big = tempDir('view-big')
    const s1 = shop(big)
    place(s1, 10)
    s1.view('by-customer', byCustomer).catchUp()
    s1.close()
    // Logs other than the one the view folded, under its files: as a power cut that cut the log's
    // unsynced tail leaves it, shorter (2 orders), or refilled past the old end since (15 orders).
    for (const orders of [2, 15]) {
      const other = tempDir('view-other')
      const s2 = shop(other)
      place(s2, orders)
      fs.cpSync(path.join(big, 'views'), path.join(other, 'views'), { recursive: true })
      const v = s2.view('by-customer', byCustomer)
      expect(v.status(), `${orders} orders`).toMatchObject({ resetOnOpen: 'ahead-of-log', position: 0n, size: 0 })
      v.catchUp()
      expect(new Map(v)).toEqual(expected(s2))
      s2.close()
    }
  })

  it('refuses a name that could leave the data directory, unknown options and bad definitions with typed errors, creating nothing', () => {
    const dir = tempDir('view-bad')
    const s = shop(dir)
    for (const name of ['..', '.', '../escape', 'a/b', '', 'x'.repeat(129), 'sp ace', 'nul\0']) {
      expect(codeOf(() => s.view(name, byCustomer)), name).toBe('E_INVALID_ARGUMENT')
    }
    expect(codeOf(() => s.view('ok', { ...byCustomer, batchsize: 10 } as never))).toBe('E_INVALID_ARGUMENT')
    expect(codeOf(() => s.view('ok', { ...byCustomer, version: 0 }))).toBe('E_INVALID_ARGUMENT')
    expect(codeOf(() => s.view('ok', { ...byCustomer, version: 1.5 }))).toBe('E_INVALID_ARGUMENT')
    expect(codeOf(() => s.view('ok', { ...byCustomer, query: 'order.placed' } as never))).toBe('E_INVALID_ARGUMENT')
    expect(codeOf(() => s.view('ok', { ...byCustomer, apply: undefined } as never))).toBe('E_INVALID_ARGUMENT')
    expect(codeOf(() => s.view('ok', { ...byCustomer, storage: 'redis' } as never))).toBe('E_INVALID_ARGUMENT')
    expect(fs.existsSync(path.join(dir, 'views'))).toBe(false)
    expect(fs.existsSync(path.join(path.dirname(dir), 'escape'))).toBe(false)
    const v = s.view('ok', byCustomer)
    expect(codeOf(() => s.view('ok', byCustomer))).toBe('E_INVALID_ARGUMENT')
    expect(codeOf(() => v.rebuild({ progress: () => {} } as never))).toBe('E_INVALID_ARGUMENT')
    // A key that is not a string is the event's failure, named like a throwing apply.
    place(s, 1)
    const badKey = s.view('bad-key', { ...byCustomer, key: () => 42 as never })
    expect(codeOf(() => badKey.catchUp())).toBe('E_VIEW_APPLY')
    expect(badKey.size).toBe(0)
    s.close()
  })

  it('a newer version on disk or the same version over another query is refused; an older one is rebuilt', () => {
    const dir = tempDir('view-version')
    const s = shop(dir)
    place(s, 9)
    const v2 = s.view('by-customer', { ...byCustomer, version: 2 })
    v2.catchUp()
    v2.close()
    const older = (() => {
      try {
        s.view('by-customer', byCustomer)
      } catch (e) {
        return e
      }
    })()
    expect(older).toMatchObject({ code: 'E_VIEW_VERSION', storedVersion: 2, version: 1 })
    expect(codeOf(() => s.view('by-customer', { ...byCustomer, version: 2, query: Query.of({ types: ['order.noted'] }) }))).toBe('E_VIEW_VERSION')
    // Nothing was changed by the refusals.
    const again = s.view('by-customer', { ...byCustomer, version: 2 })
    expect(again.position).toBe(end(s))
    expect(new Map(again)).toEqual(expected(s))
    again.close()
    const v3 = s.view('by-customer', { ...byCustomer, version: 3, apply: (t: Total) => ({ count: t.count + 1, sum: 0 }) })
    expect(v3.status()).toMatchObject({ resetOnOpen: 'version', position: 0n, size: 0 })
    v3.catchUp()
    expect(v3.get('c0')).toEqual({ count: 3, sum: 0 })
    s.close()
  })

  it('rebuild empties the view and folds the log again, reporting progress after each batch', () => {
    const dir = tempDir('view-rebuild')
    const s = shop(dir)
    place(s, 50)
    const v = s.view('by-customer', { ...byCustomer, batchSize: 8 })
    v.catchUp()
    const progress: Array<{ applied: number; position: bigint; end: bigint }> = []
    const r = v.rebuild({ onProgress: (p) => progress.push(p) })
    expect(r).toEqual({ applied: 50, position: end(s) })
    expect(progress.length).toBeGreaterThanOrEqual(7) // 50 events in batches of 8
    expect(progress.map((p) => p.applied)).toEqual([...progress.map((p) => p.applied)].sort((a, b) => a - b))
    expect(progress.at(-1)).toEqual({ applied: 50, position: end(s), end: end(s) })
    expect(new Map(v)).toEqual(expected(s))
    s.close()
  })

  it('follow() keeps the view current as events are appended, until the view closes', async () => {
    const dir = tempDir('view-follow')
    const s = shop(dir)
    const v = s.view('by-customer', byCustomer)
    const following = v.follow()
    place(s, 5)
    for (let t0 = Date.now(); v.position < end(s); ) {
      if (Date.now() - t0 > 5000) throw new Error('the view never caught up')
      await new Promise((r) => setTimeout(r, 5))
    }
    expect(v.status().following).toBe(true)
    expect(new Map(v)).toEqual(expected(s))
    v.close()
    await following
    s.close()
  })

  it('memory storage folds the same states and keeps nothing on disk', () => {
    const dir = tempDir('view-memory')
    const s = shop(dir)
    place(s, 12)
    const v = s.view('mem', { ...byCustomer, storage: 'memory' })
    v.catchUp()
    expect(new Map(v)).toEqual(expected(s))
    const copy = v.get('c0')!
    copy.count = 999 // a copy: the view is not changed through it
    expect(v.get('c0')!.count).toBe(4)
    expect(fs.existsSync(path.join(dir, 'views', 'mem'))).toBe(false)
    s.close()
  })

  it('creates the view directory owner-only and its files with the store file mode', () => {
    const dir = tempDir('view-modes')
    const s = shop(dir)
    s.view('modes', byCustomer).catchUp()
    const vd = path.join(dir, 'views', 'modes')
    expect(fs.statSync(path.join(dir, 'views')).mode & 0o777).toBe(0o700)
    expect(fs.statSync(vd).mode & 0o777).toBe(0o700)
    for (const f of fs.readdirSync(vd)) expect(fs.statSync(path.join(vd, f)).mode & 0o777, f).toBe(0o600)
    s.close()
  })

  it('without the lmdb package installed, says which package to install (E_MISSING_DEPENDENCY)', () => {
    const missing = (id: string) => {
      throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' })
    }
    expect(codeOf(() => loadLmdb(missing))).toBe('E_MISSING_DEPENDENCY')
    expect(typeof loadLmdb().open).toBe('function')
  })

  it('runs the README example (examples/views.mjs) to its expected output', () => {
    // It imports 'causeway', which resolves to dist/: `npm test` builds it first (pretest).
    const out = execFileSync(process.execPath, [path.join(repoRoot, 'examples', 'views.mjs')], {
      cwd: repoRoot,
      env: { ...process.env, CAUSEWAY_DATA: tempDir('views-example') },
      encoding: 'utf8',
    })
    for (const line of [
      'folded 3 events; ada: {"orders":2,"total":35}',
      'lag 1 after the restart; folded 1 new event; bob: {"orders":2,"total":20}',
      '2 customers: ada=35, bob=20',
      'E_VIEW_APPLY at sequence 3; the view holds {"orders":1,"total":30} and waits at 3',
      'rebuilt from scratch: 4 events',
    ]) {
      expect(out).toContain(line)
    }
  })
})
