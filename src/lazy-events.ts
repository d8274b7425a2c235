/**
 * Large results of a plain `store.query(region)` / `store.stream(entity)`:
 * a real `StoredEvent[]` to its users (Array.isArray, length, index access,
 * every Array method, spread, JSON) whose events are read from the store
 * lazily, LAZY_CHUNK (4096) at a time, through the native query with fromSequence and
 * limit (as scan() pages). for...of keeps only the chunk it is in; an index
 * access materialises the chunk holding it (kept in the array). Anything
 * that changes or enumerates the array's own properties (a write, delete,
 * Object.keys, defineProperty) first reads every event, and from then on it
 * is a plain array.
 *
 * A snapshot: bounded by the store's next sequence when the call began, so
 * events appended later never appear. Every frame is CRC-checked by the
 * native read when its chunk is read: a damaged one throws CorruptionError
 * then. Reading events of the result after store.close() throws
 * StoreClosedError.
 */
import { StoreClosedError } from './errors.js'
import { eventsOf, StoredEvent } from './event.js'
import { Frame, Rec } from './native/layouts.js'
import type { NativeFilter, NativeStore } from './native/binding.js'
import type { Store } from './store.js'

/** Events per native read; a result of at most this many is a plain array. */
export const LAZY_CHUNK = 4096

// One window of 2^52 µs (~142 years from the epoch) per cell: a count of the
// filter's events from the index alone (record time, no field: no frame read).
const COUNT_WINDOW_US = 2 ** 52

/** The number of events matching `filter`, from the index (no frame is read). */
function countOf(h: NativeStore, filter: NativeFilter): number {
  const r = h.aggregate(filter, { sizeUs: COUNT_WINDOW_US, stepUs: COUNT_WINDOW_US, time: 0, group: 0, fields: [] })
  let n = 0
  for (let i = 0; i < r.counts.length; i++) n += r.counts[i]!
  return n
}

/** The global sequence of the frame at `o` (a record offset + Rec.prefix). */
function sequenceAt(v: DataView, o: number): number {
  return Number(v.getBigUint64(o + Frame.sequence, true))
}

/**
 * The events matching `filter` (forward, no limit): a plain array when there
 * are at most LAZY_CHUNK, else a lazy one.
 */
export function readEvents<P>(store: Store, filter: NativeFilter): StoredEvent<P>[] {
  const h = store.nativeHandle()
  const end = h.nextSequence()
  const bounded: NativeFilter = { ...filter, beforeSequence: Math.min(filter.beforeSequence ?? end, end) }
  const first = h.query({ ...bounded, limit: LAZY_CHUNK + 1 })
  const events = eventsOf(first, store, store.durableBelow(h)) as StoredEvent<P>[]
  if (events.length <= LAZY_CHUNK) return events
  const source = new LazySource(store, bounded, countOf(h, bounded), events)
  return new Proxy(source.target, source) as StoredEvent<P>[]
}

/** The array index a property key names (a canonical one, below 2^32 - 1), else -1; allocates nothing. */
function indexOf(key: string | symbol): number {
  if (typeof key !== 'string') return -1
  const n = key.length
  if (n === 0 || n > 10 || (n > 1 && key.charCodeAt(0) === 48)) return -1
  let i = 0
  for (let j = 0; j < n; j++) {
    const d = key.charCodeAt(j) - 48
    if (d < 0 || d > 9) return -1
    i = i * 10 + d
  }
  return i < 4294967295 ? i : -1
}

const IteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object

/** The Proxy handler, and the state of one lazy result. */
class LazySource implements ProxyHandler<StoredEvent[]> {
  readonly target: StoredEvent[]
  /** Events in the result, fixed at the call (the snapshot). */
  readonly count: number
  /** starts[k]: the fromSequence that reads chunk k; known for the chunks reached so far. */
  private readonly starts: number[]
  /** chunks[k]: chunk k's events once an index access read them (packed arrays: fast to fill and read). */
  readonly chunks: (StoredEvent[] | undefined)[]
  /** Every event is in `target`: from then on the proxy is a plain array. */
  plain = false

  constructor(
    readonly store: Store,
    private readonly filter: NativeFilter,
    count: number,
    firstChunk: StoredEvent[],
  ) {
    // The count and the first read share their bound; should a concurrent
    // compaction make them differ, the chunks' reads stop where events end.
    this.count = Math.max(count, LAZY_CHUNK + 1)
    const target: StoredEvent[] = []
    target.length = this.count
    // Chunk 0 is kept: util.inspect shows a proxy's target, so the first events print.
    for (let i = 0; i < LAZY_CHUNK; i++) target[i] = firstChunk[i]!
    this.target = target
    this.chunks = new Array<StoredEvent[] | undefined>(Math.ceil(this.count / LAZY_CHUNK)).fill(undefined)
    this.chunks[0] = firstChunk.slice(0, LAZY_CHUNK)
    this.starts = [filter.fromSequence ?? 0, Number(firstChunk[LAZY_CHUNK - 1]!.globalSequence) + 1]
  }

  /** The store's handle, or StoreClosedError. */
  handle(): NativeStore {
    if (this.store.closed) throw new StoreClosedError('the store is closed: a large query or stream result reads its events from it')
    return this.store.nativeHandle()
  }

  /** The records of chunk k (its start must be known, see startOf); records where chunk k + 1 starts. */
  readChunk(k: number): { buf: Buffer; n: number; durableBelow: bigint } {
    const h = this.handle()
    const want = Math.min(LAZY_CHUNK, this.count - k * LAZY_CHUNK)
    const buf = h.query({ ...this.filter, fromSequence: this.starts[k]!, limit: want })
    const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    let n = 0
    let last = -1
    for (let off = 0; off < buf.byteLength; off += v.getUint32(off + Rec.span, true), n++) last = off
    if (last >= 0 && this.starts.length === k + 1) this.starts.push(sequenceAt(v, last + Rec.prefix) + 1)
    return { buf, n, durableBelow: this.store.durableBelow(h) }
  }

  /** Whether chunk k's start is known, reading (not keeping) the chunks before it never reached. */
  reach(k: number): boolean {
    while (this.starts.length <= k) {
      if (this.readChunk(this.starts.length - 1).n < LAZY_CHUNK) return false // fewer events than counted
    }
    return true
  }

  /** Chunk k's events, read now unless an index access read them before (empty past the events found). */
  chunk(k: number): StoredEvent[] {
    let c = this.chunks[k]
    if (c === undefined) {
      if (!this.reach(k)) return []
      const { buf, durableBelow } = this.readChunk(k)
      c = this.chunks[k] = eventsOf(buf, this.store, durableBelow)
    }
    return c
  }

  /** Reads every event into target: the proxy is a plain array from then on. */
  toPlain(): void {
    if (this.plain) return
    for (let k = 1; k < this.chunks.length; k++) {
      const c = this.chunk(k)
      for (let j = 0; j < c.length; j++) this.target[k * LAZY_CHUNK + j] = c[j]!
    }
    this.chunks.fill(undefined)
    this.plain = true
  }

  // ---- the traps ----

  get(target: StoredEvent[], key: string | symbol, receiver: unknown): unknown {
    if (!this.plain) {
      if (key === Symbol.iterator) return this.iterate
      const i = indexOf(key)
      if (i >= 0 && i < this.count) {
        this.handle()
        const k = (i / LAZY_CHUNK) | 0
        return this.chunk(k)[i - k * LAZY_CHUNK]
      }
    }
    return Reflect.get(target, key, receiver)
  }

  has(target: StoredEvent[], key: string | symbol): boolean {
    if (!this.plain) {
      const i = indexOf(key)
      if (i >= 0 && i < this.count) return true
    }
    return Reflect.has(target, key)
  }

  set(target: StoredEvent[], key: string | symbol, value: unknown): boolean {
    this.toPlain()
    return Reflect.set(target, key, value)
  }

  deleteProperty(target: StoredEvent[], key: string | symbol): boolean {
    this.toPlain()
    return Reflect.deleteProperty(target, key)
  }

  defineProperty(target: StoredEvent[], key: string | symbol, desc: PropertyDescriptor): boolean {
    this.toPlain()
    return Reflect.defineProperty(target, key, desc)
  }

  ownKeys(target: StoredEvent[]): ArrayLike<string | symbol> {
    this.toPlain()
    return Reflect.ownKeys(target)
  }

  getOwnPropertyDescriptor(target: StoredEvent[], key: string | symbol): PropertyDescriptor | undefined {
    this.toPlain()
    return Reflect.getOwnPropertyDescriptor(target, key)
  }

  preventExtensions(target: StoredEvent[]): boolean {
    this.toPlain()
    return Reflect.preventExtensions(target)
  }

  /** `[Symbol.iterator]`: the events a chunk at a time, only the current chunk kept. */
  private readonly iterate = (): IterableIterator<StoredEvent> => new ChunkIterator(this)
}

/** for...of over a lazy result: each chunk read when reached, its events built as they are handed out. */
class ChunkIterator implements IterableIterator<StoredEvent> {
  /** Index of the next event. */
  private i = 0
  /** Index where the current chunk ends. */
  private chunkEnd = 0
  /** The current chunk's records when they were read for this iteration; undefined: events come from `kept`. */
  private buf: Buffer | undefined
  /** The current chunk's events when an index access had read them (or target, once plain). */
  private kept: StoredEvent[] = []
  /** Index of kept[0]. */
  private base = 0
  private v: DataView | undefined
  private off = 0
  private durableBelow = 0n
  private ended = false

  constructor(private readonly src: LazySource) {}

  next(): IteratorResult<StoredEvent> {
    const src = this.src
    if (this.i >= this.chunkEnd || (src.plain && this.buf !== undefined)) {
      if (!this.enter()) return { value: undefined, done: true }
    }
    if (src.store.closed) src.handle() // throws StoreClosedError
    const buf = this.buf
    if (buf === undefined) return { value: this.kept[this.i++ - this.base]!, done: false }
    if (this.off >= buf.byteLength) {
      // The chunk held fewer events than counted (a compaction dropped some): the result ends here.
      this.ended = true
      return { value: undefined, done: true }
    }
    const e = new StoredEvent(buf, this.v!, this.off, src.store, this.durableBelow)
    this.off += this.v!.getUint32(this.off + Rec.span, true)
    this.i++
    return { value: e, done: false }
  }

  /** Moves to the chunk holding index i; false at the end. */
  private enter(): boolean {
    const src = this.src
    const i = this.i
    this.buf = undefined
    this.v = undefined
    if (this.ended) return false
    if (src.plain) {
      // Every event is in target (the array was written to): read it as an array iterator does.
      this.kept = src.target
      this.base = 0
      this.chunkEnd = i + 1
      return i < src.target.length
    }
    if (i >= src.count) return false
    const k = (i / LAZY_CHUNK) | 0
    this.chunkEnd = Math.min((k + 1) * LAZY_CHUNK, src.count)
    const kept = src.chunks[k]
    if (kept !== undefined) {
      this.kept = kept
      this.base = k * LAZY_CHUNK
      this.chunkEnd = Math.min(this.chunkEnd, this.base + kept.length)
      return i < this.chunkEnd
    }
    if (!src.reach(k)) return false
    const { buf, durableBelow } = src.readChunk(k)
    // Skip the events of this chunk before i (a chunk is entered at its start, unless made plain meanwhile).
    this.buf = buf
    this.v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    this.off = 0
    for (let j = k * LAZY_CHUNK; j < i && this.off < buf.byteLength; j++) this.off += this.v.getUint32(this.off + Rec.span, true)
    this.durableBelow = durableBelow
    return true
  }

  [Symbol.iterator](): IterableIterator<StoredEvent> {
    return this
  }
}
Object.setPrototypeOf(ChunkIterator.prototype, IteratorPrototype)
