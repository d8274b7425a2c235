import { Coordinate, validateName } from './coordinate.js'
import { InvalidArgumentError } from './errors.js'
import type { StoredEvent } from './event.js'
import type { NativeFilter } from './native/binding.js'
import { type Selection, toNativeFilter } from './query/selection.js'
import type { Store } from './store.js'
import { checkOptions, optionKeys } from './strict.js'

/** Options of `store.query(region, options)`: a lazy, paged walk of the region. */
export interface QueryOptions {
  /** At most this many events (a non-negative integer). @defaultValue no limit */
  limit?: number
  /** Resume after this global sequence; with `reverse`, before it. @defaultValue from the start (reverse: the end) */
  after?: bigint
  /** Newest first: the index is walked from its end, never read whole and turned round. @defaultValue false */
  reverse?: boolean
  /** Events fetched per native call. @defaultValue 256 */
  pageSize?: number
}

/** Options of `store.stream(entity, options)`: a lazy, paged walk of one entity's clock range. */
export interface StreamOptions {
  /** First clock, inclusive. @defaultValue 0 */
  fromClock?: number
  /** Last clock, inclusive. @defaultValue 4294967295 */
  toClock?: number
  /** At most this many events (a non-negative integer). @defaultValue no limit */
  limit?: number
  /** Newest first: `{ reverse: true, limit: 20 }` reads the latest 20 events and no other. @defaultValue false */
  reverse?: boolean
  /** Events fetched per native call. @defaultValue 256 */
  pageSize?: number
}

export const QUERY_OPTION_KEYS = optionKeys<QueryOptions>()(['limit', 'after', 'reverse', 'pageSize'])
export const STREAM_OPTION_KEYS = optionKeys<StreamOptions>()(['fromClock', 'toClock', 'limit', 'reverse', 'pageSize'])

const DEFAULT_PAGE = 256
const MAX_PAGE = 1_000_000
const MAX_CLOCK = 0xffffffff

/**
 * The events a `query` or `stream` with options selects, read a page at a
 * time as they are iterated: memory holds one page, however many match.
 * Each iteration starts afresh and ends at the events present when it
 * began. `toArray()` collects them all (bounded by `limit`).
 */
export class EventPages<P = unknown> implements Iterable<StoredEvent<P>> {
  /** @internal */ private readonly store: Store
  /** @internal */ private readonly filter: NativeFilter
  /** @internal */ private readonly walk: Walk

  /** @internal */
  constructor(store: Store, filter: NativeFilter, walk: Walk) {
    this.store = store
    this.filter = filter
    this.walk = walk
  }

  [Symbol.iterator](): Iterator<StoredEvent<P>> {
    return pages<P>(this.store, this.filter, this.walk)
  }

  /** Every event of the walk, in its order, in one array. */
  toArray(): StoredEvent<P>[] {
    return [...this]
  }
}

/** @internal How a walk goes: direction, where it resumes, how far, in what steps. */
interface Walk {
  reverse: boolean
  after: number | undefined
  limit: number
  pageSize: number
}

function* pages<P>(store: Store, filter: NativeFilter, w: Walk): Generator<StoredEvent<P>, void, undefined> {
  // The events present now: appends made while the walk runs are left out,
  // so a forward walk ends and a reverse one starts at the same place.
  const end = store.nativeHandle().nextSequence()
  let from = !w.reverse && w.after !== undefined ? w.after + 1 : 0
  let before = w.reverse && w.after !== undefined ? Math.min(w.after, end) : end
  let left = w.limit
  while (left > 0 && from < before) {
    const want = Math.min(w.pageSize, left)
    const h = store.nativeHandle()
    const page = store.eventsFrom<P>(h.query({ ...filter, fromSequence: from, beforeSequence: before, limit: want, reverse: w.reverse }))
    yield* page
    left -= page.length
    const last = page[page.length - 1]
    // Fewer than asked: nothing more matches within the bounds.
    if (page.length < want || !last) return
    if (w.reverse) before = Number(last.globalSequence)
    else from = Number(last.globalSequence) + 1
  }
}

function checkWalk(method: string, o: QueryOptions & StreamOptions, after: number | undefined): Walk {
  const { limit, reverse, pageSize } = o
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0)) {
    throw new InvalidArgumentError(`${method} limit must be a non-negative integer, got ${String(limit)}`)
  }
  if (reverse !== undefined && typeof reverse !== 'boolean') throw new InvalidArgumentError(`${method} reverse must be a boolean`)
  if (pageSize !== undefined && (typeof pageSize !== 'number' || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE)) {
    throw new InvalidArgumentError(`${method} pageSize must be an integer 1..${MAX_PAGE}, got ${String(pageSize)}`)
  }
  return { reverse: reverse === true, after, limit: limit ?? Infinity, pageSize: pageSize ?? DEFAULT_PAGE }
}

function checkClock(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_CLOCK) {
    throw new InvalidArgumentError(`stream ${what} must be an integer 0..${MAX_CLOCK}, got ${String(v)}`)
  }
  return v
}

/** @internal `store.query(region, options)`: checks everything before anything is read. */
export function queryPages<P>(store: Store, region: Selection, options: QueryOptions): EventPages<P> {
  store.nativeHandle()
  const filter = toNativeFilter(region, store.types, 'query')
  checkOptions('query', options, QUERY_OPTION_KEYS)
  const after = options.after
  if (after !== undefined && (typeof after !== 'bigint' || after < 0n)) {
    throw new InvalidArgumentError(`query after must be a non-negative bigint (a global sequence), got ${typeof after === 'bigint' ? after : typeof after}`)
  }
  const walk = checkWalk('query', options, after === undefined ? undefined : Number(after))
  return new EventPages<P>(store, filter, walk)
}

/** @internal `store.stream(entity, options)`: one entity's clock range, which its posting list holds in order. */
export function streamPages<P>(store: Store, entity: string | Coordinate, options: StreamOptions): EventPages<P> {
  store.nativeHandle()
  const name = entity instanceof Coordinate ? entity.entity : validateName('entity', entity)
  checkOptions('stream', options, STREAM_OPTION_KEYS)
  const from = options.fromClock === undefined ? 0 : checkClock('fromClock', options.fromClock)
  const to = options.toClock === undefined ? MAX_CLOCK : checkClock('toClock', options.toClock)
  if (from > to) throw new InvalidArgumentError(`stream fromClock ${from} is after toClock ${to}`)
  const filter: NativeFilter = { entity: name, exactEntity: true }
  if (options.fromClock !== undefined || options.toClock !== undefined) {
    filter.clockFrom = from
    filter.clockTo = to
  }
  return new EventPages<P>(store, filter, checkWalk('stream', options, undefined))
}
