import { decodePayloadIn } from './codec.js'
import type { Coordinate } from './coordinate.js'
import { hasOccurredAt, occurredUsAt, storedVersionAt, tagsAt } from './event-ext.js'
import { hex, uuidString } from './ids.js'
import { EventKind } from './kind.js'
import { Frame, Rec } from './native/layouts.js'
import { checkReachable, upcastPayload, type UpcastPlan } from './types/upcast.js'

/** Resolves interned ids to Coordinates; owned by the Store. */
export interface NameTable {
  coordinate(entityId: number, scopeId: number): Coordinate
  /** The type name of a kind value, or undefined. */
  typeName(kind: number): string | undefined
  /** The kind's upcast plan in this process, or undefined: payloads are read as stored. */
  upcastPlan(kind: number): UpcastPlan | undefined
}

// Held in StoredEvent.decoded while its upcasters run: an upcaster reading
// event.payload of the event it upcasts would otherwise recurse forever.
const RESOLVING = {
  get value(): never {
    throw new Error('an upcaster read event.payload of the event it upcasts: use its payload argument')
  },
}

// Fields of the frame at `o` (a record's offset + Rec.prefix) of a records
// buffer, shared by StoredEvent and EventBatch.

/** @internal */
export function coordinateAt(names: NameTable, v: DataView, o: number): Coordinate {
  const rec = o - Rec.prefix
  return names.coordinate(v.getUint32(rec + Rec.entity, true), v.getUint32(rec + Rec.scope, true))
}

/** @internal */
export function tombstonedAt(b: Buffer, o: number): boolean {
  return (b[o + Frame.flags]! & Frame.flagTombstone) !== 0
}

/** @internal Where the payload of the frame at `o` starts in its buffer. */
export function payloadStartAt(v: DataView, o: number): number {
  return o + Frame.variable + v.getUint16(o + Frame.entityLen, true) + v.getUint16(o + Frame.scopeLen, true)
}

/** @internal */
export function payloadBytesAt(b: Buffer, v: DataView, o: number): Uint8Array {
  const start = payloadStartAt(v, o)
  return b.subarray(start, start + v.getUint32(o + Frame.payloadLen, true))
}

/** @internal The payload of the frame at `o`, decoded straight from the read buffer (no copy, no view). */
export function decodePayloadAt(b: Buffer, v: DataView, o: number): unknown {
  const start = payloadStartAt(v, o)
  return decodePayloadIn(b, start, start + v.getUint32(o + Frame.payloadLen, true))
}

/**
 * One stored event, a view over bytes the addon copied out (CRC-checked).
 * Fields decode on first access; `payload` is decoded by msgpackr once.
 */
export class StoredEvent<P = unknown> {
  /** @internal */ private readonly b: Buffer
  /** @internal */ private readonly o: number
  /** @internal */ private readonly v: DataView
  /** @internal */ private readonly names: NameTable
  /** @internal */ private readonly durableBelow: bigint
  /** @internal */ private decoded: { value: P } | undefined

  /** @internal */
  constructor(buf: Buffer, view: DataView, recordOffset: number, names: NameTable, durableBelow: bigint) {
    this.b = buf
    this.o = recordOffset + Rec.prefix
    this.v = view
    this.names = names
    this.durableBelow = durableBelow
  }

  get eventId(): string {
    return uuidString(this.b, this.o + Frame.eventId)
  }
  get globalSequence(): bigint {
    return this.v.getBigUint64(this.o + Frame.sequence, true)
  }
  get clock(): number {
    return this.v.getUint32(this.o + Frame.clock, true)
  }
  get contentHash(): string {
    return hex(this.b, this.o + Frame.contentHash, 32)
  }
  get prevHash(): string {
    return hex(this.b, this.o + Frame.prevHash, 32)
  }
  /** Whether the event was known to be synced when it was read. */
  get durable(): boolean {
    return this.globalSequence < this.durableBelow
  }
  get coordinate(): Coordinate {
    return coordinateAt(this.names, this.v, this.o)
  }
  get kind(): EventKind {
    return EventKind.fromValue(this.v.getUint16(this.o + Frame.kind, true))
  }
  /** The kind's type name (store.types.define), or undefined for a kind no type has. */
  get type(): string | undefined {
    return this.names.typeName(this.v.getUint16(this.o + Frame.kind, true))
  }
  get correlationId(): string {
    return uuidString(this.b, this.o + Frame.correlation)
  }
  get causationId(): string | null {
    return this.b[this.o + Frame.flags]! & Frame.flagHasCausation ? uuidString(this.b, this.o + Frame.causation) : null
  }
  /** When the store recorded the event: µs since the epoch, never decreasing along the log. */
  get timestampUs(): number {
    return Number(this.v.getBigInt64(this.o + Frame.timestamp, true))
  }
  /** When it happened in the domain (append's occurredAt), µs since the epoch; the record time when none was given. */
  get occurredAtUs(): number {
    return occurredUsAt(this.b, this.v, this.o)
  }
  /** occurredAtUs as a Date (millisecond precision). */
  get occurredAt(): Date {
    return new Date(Math.floor(this.occurredAtUs / 1000))
  }
  /** Whether append was given an occurredAt; without one, occurredAtUs is the record time. */
  get hasOccurredAt(): boolean {
    return hasOccurredAt(this.b, this.v, this.o)
  }
  /** The event's tags, in the order appended; empty when it has none. */
  get tags(): string[] {
    return tagsAt(this.b, this.v, this.o)
  }
  /** The type version the payload was stored with (1 unless its type was defined with a version). */
  get storedVersion(): number {
    return storedVersionAt(this.b, this.v, this.o)
  }
  /** The msgpack bytes exactly as stored (and hashed). A view: copy it to keep it past the event. */
  get payloadBytes(): Uint8Array {
    return payloadBytesAt(this.b, this.v, this.o)
  }
  /** True when compaction replaced this event's payload (tombstone strategy); payload is then null. */
  get tombstoned(): boolean {
    return tombstonedAt(this.b, this.o)
  }
  /**
   * The type version `payload` is at: the type's current version in this
   * process when the event was upcast, else storedVersion. Throws the
   * UpcastError a read of `payload` would (a missing step, a newer writer).
   */
  get version(): number {
    const stored = this.storedVersion
    const plan = this.names.upcastPlan(this.v.getUint16(this.o + Frame.kind, true))
    if (plan === undefined || stored === plan.current || this.tombstoned) return stored
    checkReachable(plan, stored, this.eventId)
    return plan.current
  }
  /** The decoded payload, brought to its type's current version by the upcast steps (once, then cached). */
  get payload(): P {
    if (!this.decoded) this.decoded = { value: this.resolve() }
    return this.decoded.value
  }
  /** @internal */
  private resolve(): P {
    if (this.tombstoned) return null as P
    const raw = decodePayloadAt(this.b, this.v, this.o)
    // One Map lookup for kinds without a plan: no type, or a type this process never defined.
    const plan = this.names.upcastPlan(this.v.getUint16(this.o + Frame.kind, true))
    if (plan === undefined) return raw as P
    const stored = this.storedVersion
    if (stored === plan.current) return raw as P
    this.decoded = RESOLVING as { value: P }
    try {
      return upcastPayload(plan, stored, raw, this) as P
    } finally {
      this.decoded = undefined
    }
  }

  toJSON(): Record<string, unknown> {
    return {
      eventId: this.eventId,
      globalSequence: this.globalSequence.toString(),
      coordinate: { entity: this.coordinate.entity, scope: this.coordinate.scope },
      kind: this.kind.value,
      ...(this.type !== undefined ? { type: this.type } : {}),
      clock: this.clock,
      timestampUs: this.timestampUs,
      ...(hasOccurredAt(this.b, this.v, this.o) ? { occurredAtUs: this.occurredAtUs } : {}),
      ...(this.storedVersion !== 1 ? { storedVersion: this.storedVersion } : {}),
      ...(this.version !== 1 ? { version: this.version } : {}),
      ...(this.tags.length > 0 ? { tags: this.tags } : {}),
      correlationId: this.correlationId,
      causationId: this.causationId,
      contentHash: this.contentHash,
      prevHash: this.prevHash,
      payload: this.payload,
      ...(this.tombstoned ? { tombstoned: true } : {}),
    }
  }
}

/** Splits a records buffer from the addon into events. */
export function eventsOf(buf: Buffer, names: NameTable, durableBelow: bigint): StoredEvent[] {
  const out: StoredEvent[] = []
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  for (let off = 0; off < buf.byteLength; ) {
    out.push(new StoredEvent(buf, v, off, names, durableBelow))
    off += v.getUint32(off + Rec.span, true)
  }
  return out
}
