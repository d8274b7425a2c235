// causeway/emmett's EventStore: the shopping-cart flow of Emmett's docs through
// Emmett's own CommandHandler, every expected-version form raising Emmett's
// ExpectedVersionConflictError and writing nothing, reads with from/to/maxCount,
// the JSON round-trip of data and metadata, stream names causeway refuses as
// entities, reopen and continue, onAfterCommit, inline projections, and
// Emmett's published WrapEventStore test helper run against the adapter.
import * as emmett from '@event-driven-io/emmett'
import {
  CommandHandler,
  ExpectedVersionConflictError,
  isExpectedVersionConflictError,
  NO_CONCURRENCY_CHECK,
  STREAM_DOES_NOT_EXIST,
  STREAM_EXISTS,
  WrapEventStore,
  inlineProjections,
  type Event,
  type ReadEvent,
} from '@event-driven-io/emmett'
import { afterEach, describe, expect, it } from 'vitest'
import { Coordinate, Store } from '../src/index.js'
import { type CausewayEventStore, getCausewayEventStore, streamToEntity, useEmmett } from '../src/emmett/index.js'
import { tempDir } from './helpers.js'
import { addItem, type CartEvent, confirm, evolve, initialState, open } from './emmett-cart.js'

useEmmett(emmett)
const opened: CausewayEventStore[] = []
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close()
})
function eventStore(options: Parameters<typeof getCausewayEventStore>[0] = { dataDir: tempDir('emmett') }): CausewayEventStore {
  const s = getCausewayEventStore(options)
  opened.push(s)
  return s
}
const handle = CommandHandler<ReturnType<typeof initialState>, CartEvent>({ evolve, initialState })
const item = (productId: string, quantity = 1) => ({ productId, quantity, unitPrice: 10 })
const ev = (n: number): Event => ({ type: 'Counted', data: { n } })

describe('the shopping cart of Emmett docs on causeway', () => {
  it('opens, adds items, confirms, and rejects a concurrent command on a stale version', async () => {
    const es = eventStore()
    await handle(es, 'shopping_cart-1', (s) => open('1', 'client-1', s))
    await handle(es, 'shopping_cart-1', (s) => addItem('1', item('pen', 2), s))
    const added = await handle(es, 'shopping_cart-1', (s) => addItem('1', item('ink'), s), { expectedStreamVersion: 2n })
    expect(added.nextExpectedStreamVersion).toBe(3n)
    // Two commands decided on version 3: the second one's append is refused.
    const a = await es.aggregateStream('shopping_cart-1', { evolve, initialState })
    const b = await es.aggregateStream('shopping_cart-1', { evolve, initialState })
    await es.appendToStream('shopping_cart-1', [confirm('1', a.state)], { expectedStreamVersion: a.currentStreamVersion })
    const late = es.appendToStream('shopping_cart-1', [addItem('1', item('pad'), b.state)], { expectedStreamVersion: b.currentStreamVersion })
    await expect(late).rejects.toBeInstanceOf(ExpectedVersionConflictError)
    const final = await es.aggregateStream('shopping_cart-1', { evolve, initialState })
    expect(final.state).toEqual({ status: 'Confirmed', items: [item('pen', 2), item('ink')] })
    expect(final.currentStreamVersion).toBe(4n)
    await expect(handle(es, 'shopping_cart-1', (s) => addItem('1', item('x'), s))).rejects.toThrow('cart is not open')
  })

  it('keeps a cart across a reopen of the data directory and continues its versions', async () => {
    const dir = tempDir('emmett-reopen')
    const first = eventStore({ dataDir: dir })
    await handle(first, 'cart-r', (s) => open('r', 'c', s))
    await handle(first, 'cart-r', (s) => addItem('r', item('a'), s))
    await first.close()
    expect(first.store.closed).toBe(true)
    const again = eventStore({ dataDir: dir })
    const r = await handle(again, 'cart-r', (s) => confirm('r', s), { expectedStreamVersion: 2n })
    expect(r.nextExpectedStreamVersion).toBe(3n)
    expect(r.newState.status).toBe('Confirmed')
  })

  it('runs Emmett’s published WrapEventStore helper over the adapter unmodified', async () => {
    const wrapped = WrapEventStore(eventStore())
    await wrapped.setup('cart-w', [open('w', 'c', initialState())])
    await handle(wrapped, 'cart-w', (s) => addItem('w', item('a'), s))
    expect(wrapped.appendedEvents.get('cart-w')?.[1].map((e) => e.type)).toEqual(['ProductItemAddedToShoppingCart'])
    expect((await wrapped.readStream('cart-w')).currentStreamVersion).toBe(2n)
  })
})

describe('expected versions', () => {
  const conflict = async (p: Promise<unknown>) => {
    const e = await p.then(() => undefined, (err: unknown) => err)
    expect(e).toBeInstanceOf(ExpectedVersionConflictError)
    expect(isExpectedVersionConflictError(e)).toBe(true)
  }

  it('refuses every stale form with ExpectedVersionConflictError and writes nothing', async () => {
    const es = eventStore()
    await conflict(es.appendToStream('s', [ev(1)], { expectedStreamVersion: STREAM_EXISTS }))
    await conflict(es.appendToStream('s', [ev(1)], { expectedStreamVersion: 1n }))
    expect(await es.streamExists('s')).toBe(false)
    const created = await es.appendToStream('s', [ev(1), ev(2)], { expectedStreamVersion: STREAM_DOES_NOT_EXIST })
    expect(created).toMatchObject({ nextExpectedStreamVersion: 2n, createdNewStream: true })
    await conflict(es.appendToStream('s', [ev(3)], { expectedStreamVersion: STREAM_DOES_NOT_EXIST }))
    await conflict(es.appendToStream('s', [ev(3), ev(4)], { expectedStreamVersion: 1n }))
    await conflict(es.appendToStream('s', [ev(3)], { expectedStreamVersion: 3n }))
    await conflict(es.readStream('s', { expectedStreamVersion: 5n }))
    expect((await es.readStream('s')).events.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }])
    expect(await es.appendToStream('s', [ev(3)], { expectedStreamVersion: STREAM_EXISTS })).toMatchObject({ nextExpectedStreamVersion: 3n, createdNewStream: false })
    expect((await es.appendToStream('s', [ev(4)], { expectedStreamVersion: 3n })).nextExpectedStreamVersion).toBe(4n)
    expect((await es.appendToStream('s', [ev(5)], { expectedStreamVersion: NO_CONCURRENCY_CHECK })).nextExpectedStreamVersion).toBe(5n)
    expect((await es.appendToStream('s', [ev(6)])).nextExpectedStreamVersion).toBe(6n)
    expect(es.store.clockOf(new Coordinate('s', 'emmett'))).toBe(6)
  })
})

describe('reads', () => {
  it('reads from/to/maxCount by stream position, with bigint positions and no other stream', async () => {
    const es = eventStore()
    await es.appendToStream('a', [ev(1), ev(2), ev(3), ev(4), ev(5)])
    await es.appendToStream('b', [ev(9)])
    await es.appendToStream('a', [ev(6)])
    const all = await es.readStream('a')
    expect(all.currentStreamVersion).toBe(6n)
    expect(all.events.map((e) => e.metadata.streamPosition)).toEqual([1n, 2n, 3n, 4n, 5n, 6n])
    expect(all.events.map((e) => e.metadata.globalPosition).every((g, i, a) => typeof g === 'bigint' && (i === 0 || g > a[i - 1]!))).toBe(true)
    const n = (r: { events: ReadEvent[] }) => r.events.map((e) => e.data.n)
    expect(n(await es.readStream('a', { from: 2n }))).toEqual([2, 3, 4, 5, 6])
    expect(n(await es.readStream('a', { from: 2n, to: 4n }))).toEqual([2, 3, 4])
    expect(n(await es.readStream('a', { from: 3n, maxCount: 2n }))).toEqual([3, 4])
    expect(n(await es.readStream('a', { to: 1n }))).toEqual([1])
    expect(n(await es.readStream('a', { from: 9n, to: 20n }))).toEqual([])
    expect(n(await es.readStream('a', { from: 5n, to: 20n }))).toEqual([5, 6])
    const none = await es.readStream('missing')
    expect(none).toEqual({ currentStreamVersion: 0n, events: [], streamExists: false })
    const agg = await es.aggregateStream('a', { evolve: (s: number, e: Event) => s + (e.data.n as number), initialState: () => 0, read: { to: 3n } })
    expect(agg).toMatchObject({ state: 6, currentStreamVersion: 3n, streamExists: true })
    expect(await es.streamExists('b')).toBe(true)
  })

  it('aggregates up to a past version (to: n gives version n), with an evolve taking the event or the read event', async () => {
    const es = eventStore()
    for (const n of [3, 4, 5]) await es.appendToStream('tt', [ev(n)])
    const plain = (s: number, e: Event) => s + (e.data.n as number)
    const withMeta = (s: number, e: ReadEvent<Event, emmett.ReadEventMetadataWithGlobalPosition>) => s + (e.data.n as number) * Number(e.metadata.streamPosition)
    const at = (to: bigint, evolve: typeof plain | typeof withMeta) => es.aggregateStream('tt', { evolve, initialState: () => 0, read: { to } })
    expect(await at(1n, plain)).toMatchObject({ state: 3, currentStreamVersion: 1n })
    expect(await at(2n, plain)).toMatchObject({ state: 7, currentStreamVersion: 2n })
    expect(await at(3n, withMeta)).toMatchObject({ state: 3 + 8 + 15, currentStreamVersion: 3n })
    expect((await es.aggregateStream('tt', { evolve: plain, initialState: () => 0 })).currentStreamVersion).toBe(3n)
  })

  it('round-trips type, data and metadata as JSON, as Emmett’s SQLite store does', async () => {
    const es = eventStore()
    const when = new Date('2026-01-02T03:04:05.006Z')
    const input = { type: 'Odd type / with spaces', data: { when, big: 12n, nested: { list: [1, 'two', null], gone: undefined } }, metadata: { correlationId: 'c-1', traceId: 7 } }
    await es.appendToStream('rt', [input as unknown as Event])
    const [e] = (await es.readStream('rt')).events
    expect(e!.type).toBe('Odd type / with spaces')
    expect(e!.data).toEqual({ when: '2026-01-02T03:04:05.006Z', big: '12', nested: { list: [1, 'two', null] } })
    expect(e!.metadata).toMatchObject({ correlationId: 'c-1', traceId: 7, streamName: 'rt', streamPosition: 1n })
    expect(e!.metadata.messageId).toMatch(/^[0-9a-f-]{36}$/)
    expect(e!.kind).toBe('Event')
    // Plain type names are causeway named types; the odd one is kept in the body under a hashed type name.
    await es.appendToStream('rt', [ev(1)])
    const stored = es.store.stream(new Coordinate('rt', 'emmett'))
    expect(stored[1]!.type).toBe('Counted')
    expect(stored[0]!.type).toMatch(/^emt\.h\.[0-9a-f]{40}$/)
  })

  it('keeps stream names causeway refuses as entities, escaped reversibly', async () => {
    const es = eventStore()
    const names = ['', 'tab\there', '~tilde', 'lone\ud800', 'ünï-cödé:1']
    for (const [i, name] of names.entries()) await es.appendToStream(name, [ev(i)])
    for (const [i, name] of names.entries()) {
      const r = await es.readStream(name)
      expect(r.events.map((e) => [e.data.n, e.metadata.streamName])).toEqual([[i, name]])
    }
    expect(streamToEntity('ünï-cödé:1')).toBe('ünï-cödé:1')
    expect(streamToEntity('~tilde')).toBe('~007e00740069006c00640065')
    await expect(es.appendToStream('\u0001'.repeat(300), [ev(0)])).rejects.toMatchObject({ code: 'E_INVALID_COORDINATE' })
  })

  it('refuses options with neither or both of store and dataDir (E_INVALID_ARGUMENT), opening nothing', () => {
    expect(() => getCausewayEventStore({})).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }))
    const store = Store.open({ dataDir: tempDir('emmett-both') })
    try {
      expect(() => getCausewayEventStore({ store, dataDir: tempDir('emmett-other') })).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }))
    } finally {
      store.close()
    }
  })
})

describe('hooks and inline projections', () => {
  it('calls onAfterCommit once per append with the read events, and an inline projection before append returns', async () => {
    const seen: ReadEvent<Event, emmett.ReadEventMetadataWithGlobalPosition>[][] = []
    const totals = new Map<string, number>()
    const projection = emmett.projection<CartEvent, emmett.ReadEventMetadataWithGlobalPosition>({
      name: 'cart-totals',
      canHandle: ['ProductItemAddedToShoppingCart'],
      handle: async (events) => {
        for (const e of events) if (e.type === 'ProductItemAddedToShoppingCart') totals.set(e.data.cartId, (totals.get(e.data.cartId) ?? 0) + e.data.productItem.quantity)
      },
    })
    const store = Store.open({ dataDir: tempDir('emmett-hooks') })
    try {
      const es = eventStore({
        store,
        projections: inlineProjections([projection]),
        hooks: {
          onAfterCommit: (events) => {
            seen.push(events)
            if (seen.length === 2) throw new Error('a failing hook does not fail the append')
          },
        },
      })
      await handle(es, 'cart-h', (s) => open('h', 'c', s))
      await handle(es, 'cart-h', (s) => [addItem('h', item('a', 2), s), addItem('h', item('b', 3), s)])
      expect(totals.get('h')).toBe(5)
      expect(seen.map((b) => b.map((e) => [e.type, e.metadata.streamPosition]))).toEqual([
        [['ShoppingCartOpened', 1n]],
        [['ProductItemAddedToShoppingCart', 2n], ['ProductItemAddedToShoppingCart', 3n]],
      ])
      expect(typeof seen[1]![0]!.metadata.globalPosition).toBe('bigint')
      await es.close()
      expect(store.closed).toBe(false) // a store passed in stays open
    } finally {
      store.close()
    }
  })
})
