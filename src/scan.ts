import type { Coordinate } from './coordinate.js'
import { InvalidArgumentError } from './errors.js'
import { coordinateAt, decodePayloadAt, payloadBytesAt, StoredEvent, tombstonedAt, type NameTable } from './event.js'
import { storedVersionAt } from './event-ext.js'
import { EventKind } from './kind.js'
import { Frame, Rec } from './native/layouts.js'
import type { NativeFilter } from './native/binding.js'
import { type Selection, toNativeFilter } from './query/selection.js'
import { Store } from './store.js'
import { checkOptions, optionKeys } from './strict.js'

export interface ScanOptions {
  /** Events per batch: one native call and one buffer each. @defaultValue 4096 */
  batchSize?: number
  /** Start at this global sequence. @defaultValue 0n */
  fromSequence?: bigint
}

export const SCAN_OPTION_KEYS = optionKeys<ScanOptions>()(['batchSize', 'fromSequence'])

const DEFAULT_BATCH = 4096
const MAX_BATCH = 1_000_000

/**
 * A batch of events read together: accessors by position, no object per
 * event unless asked for (`event(i)`, iteration). Every frame in it passed
 * its CRC check when it was read. Positions run 0..length-1 in global order.
 */
export class EventBatch {
  readonly length: number
  /** @internal */ private readonly b: Buffer
  /** @internal */ private readonly v: DataView
  /** @internal Frame offset (record offset + prefix) of each event. */
  private readonly at: Uint32Array
  /** @internal */ private readonly names: NameTable
  /** @internal */ private readonly durableBelow: bigint

  /** @internal The records of `buf` below global sequence `end` (they come in sequence order). */
  constructor(buf: Buffer, names: NameTable, durableBelow: bigint, end: number) {
    this.b = buf
    this.v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    const at: number[] = []
    for (let off = 0; off < buf.byteLength; off += this.v.getUint32(off + Rec.span, true)) {
      if (Number(this.v.getBigUint64(off + Rec.prefix + Frame.sequence, true)) >= end) break
      at.push(off + Rec.prefix)
    }
    this.at = Uint32Array.from(at)
    this.length = at.length
    this.names = names
    this.durableBelow = durableBelow
  }

  /** @internal */
  private o(i: number): number {
    const o = this.at[i]
    if (o === undefined) throw new InvalidArgumentError(`batch position ${String(i)} is outside 0..${this.length - 1}`)
    return o
  }

  globalSequence(i: number): bigint {
    return this.v.getBigUint64(this.o(i) + Frame.sequence, true)
  }
  /** The kind's 16-bit value, without an EventKind object. */
  kindValue(i: number): number {
    return this.v.getUint16(this.o(i) + Frame.kind, true)
  }
  kind(i: number): EventKind {
    return EventKind.fromValue(this.kindValue(i))
  }
  /** The kind's type name (store.types), or undefined. */
  type(i: number): string | undefined {
    return this.names.typeName(this.kindValue(i))
  }
  clock(i: number): number {
    return this.v.getUint32(this.o(i) + Frame.clock, true)
  }
  timestampUs(i: number): number {
    return Number(this.v.getBigInt64(this.o(i) + Frame.timestamp, true))
  }
  coordinate(i: number): Coordinate {
    return coordinateAt(this.names, this.v, this.o(i))
  }
  tombstoned(i: number): boolean {
    return tombstonedAt(this.b, this.o(i))
  }
  /** The stored msgpack bytes (a view into the batch's buffer). */
  payloadBytes(i: number): Uint8Array {
    return payloadBytesAt(this.b, this.v, this.o(i))
  }
  /** The type version the payload was stored with. */
  storedVersion(i: number): number {
    return storedVersionAt(this.b, this.v, this.o(i))
  }
  /** The type version payload(i) is at (upcast to the type's current version in this process). */
  version(i: number): number {
    return this.names.upcastPlan(this.kindValue(i)) === undefined ? this.storedVersion(i) : this.event(i).version
  }
  /** Decodes (and upcasts) the payload each call (null for a tombstoned event); `event(i).payload` caches it. */
  payload<P = unknown>(i: number): P {
    // A kind with an upcast plan goes through the event, which runs the steps.
    if (this.names.upcastPlan(this.kindValue(i)) !== undefined) return this.event<P>(i).payload
    const o = this.o(i)
    return (tombstonedAt(this.b, o) ? null : decodePayloadAt(this.b, this.v, o)) as P
  }
  /** The full event at position i, as `query` returns it. */
  event<P = unknown>(i: number): StoredEvent<P> {
    return new StoredEvent<P>(this.b, this.v, this.o(i) - Rec.prefix, this.names, this.durableBelow)
  }
  *[Symbol.iterator](): IterableIterator<StoredEvent> {
    for (let i = 0; i < this.length; i++) yield this.event(i)
  }
}

declare module './store.js' {
  interface Store {
    /**
     * Reads the events of the region or DCB query in global order, a batch at a time: memory
     * stays at one batch however many events match. The scan ends at the
     * events present when it started; compaction meanwhile may drop some.
     */
    scan(region: Selection, options?: ScanOptions): IterableIterator<EventBatch>
  }
}

Store.prototype.scan = function (this: Store, region: Selection, options?: ScanOptions): IterableIterator<EventBatch> {
  const h = this.nativeHandle()
  const filter = toNativeFilter(region, this.types, 'scan')
  checkOptions('scan', options, SCAN_OPTION_KEYS)
  const size = options?.batchSize ?? DEFAULT_BATCH
  if (!Number.isInteger(size) || size < 1 || size > MAX_BATCH) {
    throw new InvalidArgumentError(`scan batchSize must be an integer 1..${MAX_BATCH}, got ${String(size)}`)
  }
  const from = options?.fromSequence ?? 0n
  if (typeof from !== 'bigint' || from < 0n) throw new InvalidArgumentError('scan fromSequence must be a non-negative bigint')
  const end = h.nextSequence()
  return batches(this, filter, Number(from), end, size)
}

function* batches(store: Store, filter: NativeFilter, from: number, end: number, size: number): IterableIterator<EventBatch> {
  let next = from
  while (next < end) {
    const h = store.nativeHandle()
    const buf = h.query({ ...filter, fromSequence: next, limit: size })
    // Only the events that existed when the scan began.
    const batch = new EventBatch(buf, store, store.durableBelow(h), end)
    if (batch.length === 0) return
    yield batch
    // Fewer than asked: the region has no more below `end`.
    if (batch.length < size) return
    next = Number(batch.globalSequence(batch.length - 1)) + 1
  }
}
