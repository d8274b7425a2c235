/**
 * How events travel over NATS (documented in native/PROTOCOL.md, "Replication
 * over NATS JetStream"): one subject per stream, one message per event, the
 * body the event's frame exactly as stored, its id as Nats-Msg-Id. Fence
 * markers (promote) go on a second subject; the stream sequence of global
 * sequence g is g + 1 + the number of fence markers before it.
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

/** The subject promote publishes fence markers on (replicas skip them). */
export function fenceSubjectOf(stream: string): string {
  return `causeway.${stream}.fence`
}

/** A fence marker's body: the writer that owns the stream from it on, and the global sequence it goes on from. */
export interface FenceMarker {
  writer: string
  next: bigint
}

export function encodeFence(f: FenceMarker): Uint8Array {
  return Buffer.from(JSON.stringify({ writer: f.writer, next: f.next.toString(), at: new Date().toISOString() }))
}

/** Reads a fence marker's body; undefined when it is not one. */
export function decodeFence(data: Uint8Array): FenceMarker | undefined {
  try {
    const v = JSON.parse(Buffer.from(data).toString('utf8')) as { writer?: unknown; next?: unknown }
    if (typeof v.writer !== 'string' || typeof v.next !== 'string' || !/^\d+$/.test(v.next)) return undefined
    return { writer: v.writer, next: BigInt(v.next) }
  } catch {
    return undefined
  }
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

