/**
 * Appends frames received from the stream to a replica store through the
 * addon's appendFrames: each source batch as one atomic batch, single
 * events one by one (a frame's batch flags must match what it is appended
 * with, so the replica's bytes equal the source's).
 */
import { isCausewayError, ReplicationError } from '../errors.js'
import { Frame } from '../native/layouts.js'
import type { Store } from '../store.js'

const RECEIPT_BYTES = 136
const BATCH_MEMBER = 0x01
const BATCH_END = 0x02

interface FramesHandle {
  appendFrames(frames: Uint8Array, count: number, durable: boolean, receipts: Uint8Array): void
}

export class FrameAppender {
  private pending: Uint8Array[] = []
  private receipts = new Uint8Array(RECEIPT_BYTES * 64)

  constructor(private readonly store: Store) {}

  /** True while a source batch is incomplete (its end frame has not come yet). */
  get holding(): boolean {
    return this.pending.length > 0
  }

  /** Takes one frame; appends it, or the batch it ends. */
  add(frame: Uint8Array): void {
    const flags = frame[Frame.flags]!
    if ((flags & BATCH_MEMBER) === 0) {
      if (this.pending.length > 0) throw new ReplicationError('the stream interrupts a batch with a single event')
      this.append([frame])
      return
    }
    this.pending.push(frame)
    if (flags & BATCH_END) {
      const batch = this.pending
      this.pending = []
      this.append(batch)
    }
  }

  /** Drops an incomplete batch (the consumer restarts from the store's end). */
  reset(): void {
    this.pending = []
  }

  private append(frames: Uint8Array[]): void {
    let size = 0
    for (const f of frames) size += (f.byteLength + 7) & ~7
    const buf = new Uint8Array(size)
    let o = 0
    for (const f of frames) {
      buf.set(f, o)
      o += (f.byteLength + 7) & ~7
    }
    if (this.receipts.byteLength < frames.length * RECEIPT_BYTES) this.receipts = new Uint8Array(frames.length * RECEIPT_BYTES)
    try {
      ;(this.store.nativeHandle() as unknown as FramesHandle).appendFrames(buf, frames.length, false, this.receipts)
    } catch (e) {
      if (isCausewayError(e, 'E_INVALID_ARGUMENT')) throw new ReplicationError(`the stream does not continue this replica: ${e.message}`, { cause: e })
      throw e
    }
  }
}
