/**
 * How events travel over NATS (documented in native/PROTOCOL.md, "Replication
 * over NATS JetStream"): one subject per stream, one message per event, the
 * body the event's frame exactly as stored, its id as Nats-Msg-Id. Stream
 * sequence n holds global sequence n - 1: the stream is the store's log.
 */
import { InvalidArgumentError } from '../errors.js'
import type { StoredEvent } from '../event.js'
import { Frame } from '../native/layouts.js'

const STREAM_RE = /^[A-Za-z0-9_-]{1,64}$/

/** Refuses a stream name NATS or the state file name could misread. */
export function checkStreamName(stream: unknown): string {
  if (typeof stream !== 'string' || !STREAM_RE.test(stream)) {
    throw new InvalidArgumentError('stream must be 1..64 characters of A-Z a-z 0-9 _ -')
  }
  return stream
}

/** The one subject a stream's events are published on. */
export function subjectOf(stream: string): string {
  return `causeway.${stream}.events`
}

/** Header naming the global sequence of the frame (a cross-check for readers). */
export const SEQUENCE_HEADER = 'Causeway-Sequence'

/** The event's frame bytes, as on disk: length word to the last byte (no padding). */
export function frameOf(e: StoredEvent): Uint8Array {
  const inner = e as unknown as { b: Buffer; o: number; v: DataView }
  const len = inner.v.getUint32(inner.o + Frame.length, true)
  return inner.b.subarray(inner.o, inner.o + len)
}

/** The global sequence a frame carries. */
export function frameSequence(frame: Uint8Array): bigint {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getBigUint64(Frame.sequence, true)
}

/** Reads a frame's sequence and checks its length word against the message size. */
export function checkFrame(frame: Uint8Array): boolean {
  if (frame.byteLength < Frame.variable) return false
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0, true) === frame.byteLength
}

