/**
 * Where appends' receipts live: 136-byte slots of an arena the addon writes
 * into, so no buffer is allocated per append. A full arena is replaced,
 * never reused (receipts handed out still read it). Each new arena is given
 * to the addon, which makes its pages resident in one call rather than one
 * page fault every 30 receipts (costly on a virtual machine).
 */
import { Rcpt } from './native/layouts.js'

/** Receipts per arena: one buffer allocation per this many appends. */
const ARENA_RECEIPTS = 2048
/** A batch's receipts up to this many bytes share the arena; a larger batch gets its own buffer. */
const SHARED_BYTES = (ARENA_RECEIPTS / 4) * Rcpt.size

/** A place for `bytes` of receipts: `buf` from offset `at`, read through `view`. */
export interface ReceiptRoom {
  buf: Uint8Array
  view: DataView
  at: number
}

export class ReceiptArena implements ReceiptRoom {
  buf = new Uint8Array(ARENA_RECEIPTS * Rcpt.size)
  view = new DataView(this.buf.buffer)
  /** The next free byte. */
  at = 0

  /** `install(arena)` hands a new arena to the addon (the first one too). */
  constructor(private readonly install: (arena: Uint8Array) => void) {
    install(this.buf)
  }

  /** Room for one receipt: its offset in `buf` (a new arena when full); `take` it once written. */
  one(): number {
    if (this.at + Rcpt.size > this.buf.byteLength) this.renew()
    return this.at
  }

  /** Room for a batch's receipts: the arena, or a buffer of their own. */
  many(bytes: number): ReceiptRoom {
    if (bytes > SHARED_BYTES) {
      const buf = new Uint8Array(bytes)
      return { buf, view: new DataView(buf.buffer), at: 0 }
    }
    if (this.at + bytes > this.buf.byteLength) this.renew()
    return this
  }

  /** Marks `bytes` from the current offset as used (after the addon wrote them). */
  take(room: ReceiptRoom, bytes: number): void {
    if (room === this) this.at += bytes
  }

  private renew(): void {
    this.buf = new Uint8Array(ARENA_RECEIPTS * Rcpt.size)
    this.view = new DataView(this.buf.buffer)
    this.at = 0
    this.install(this.buf)
  }
}
