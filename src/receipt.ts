import { hex, isZero16, uuidString } from './ids.js'
import { Rcpt } from './native/layouts.js'

/**
 * What an append returns. Backed by the 136 bytes the addon wrote; hex and
 * UUID strings are formatted when first read.
 */
export class AppendReceipt {
  /** @internal */
  private readonly b: Uint8Array
  /** @internal */
  private readonly v: DataView
  /** @internal */
  private readonly o: number

  /**
   * @internal `buf` is a receipt arena shared by many receipts (no buffer is
   * allocated per append); this receipt's 136 bytes start at `offset`.
   */
  constructor(buf: Uint8Array, view: DataView, offset: number) {
    this.b = buf
    this.v = view
    this.o = offset
  }

  /** @internal The bytes behind this receipt (receipt-json formats from them). */
  get arenaBytes(): Uint8Array {
    return this.b
  }
  /** @internal Where this receipt's bytes start in arenaBytes. */
  get arenaOffset(): number {
    return this.o
  }

  /** The event's id, a UUIDv7 string. */
  get eventId(): string {
    return uuidString(this.b, this.o + Rcpt.eventId)
  }
  /** Position in the store's total order: 0-based and gapless. */
  get globalSequence(): bigint {
    return this.v.getBigUint64(this.o + Rcpt.sequence, true)
  }
  /** The event's place in its entity: 1 for the first, so it equals the entity's event count. */
  get clock(): number {
    return this.v.getUint32(this.o + Rcpt.clock, true)
  }
  /** BLAKE3 of the stored payload bytes, 64 hex characters. */
  get contentHash(): string {
    return hex(this.b, this.o + Rcpt.contentHash, 32)
  }
  /** The content hash of the entity's previous event; 64 zeros for its first. */
  get prevHash(): string {
    return hex(this.b, this.o + Rcpt.prevHash, 32)
  }
  /** True when the event was synced to disk before the call returned. */
  get durable(): boolean {
    return (this.b[this.o + Rcpt.flags]! & Rcpt.durable) !== 0
  }
  /** True when an idempotency key matched an earlier append and nothing was written. */
  get deduplicated(): boolean {
    return (this.b[this.o + Rcpt.flags]! & Rcpt.deduplicated) !== 0
  }
  get correlationId(): string {
    return uuidString(this.b, this.o + Rcpt.correlation)
  }
  get causationId(): string | null {
    return this.b[this.o + Rcpt.flags]! & Rcpt.hasCausation && !isZero16(this.b, this.o + Rcpt.causation)
      ? uuidString(this.b, this.o + Rcpt.causation)
      : null
  }
  /** Microseconds since the Unix epoch; never lower than an earlier event's. */
  get timestampUs(): number {
    return Number(this.v.getBigInt64(this.o + Rcpt.timestamp, true))
  }

  toJSON(): Record<string, unknown> {
    return {
      eventId: this.eventId,
      globalSequence: this.globalSequence.toString(),
      clock: this.clock,
      contentHash: this.contentHash,
      prevHash: this.prevHash,
      durable: this.durable,
      deduplicated: this.deduplicated,
    }
  }
}
