/**
 * Receipts as JSON bytes, written straight from the receipt's 136 bytes
 * into one Buffer: the same text as toJson(receiptWire(r)) (a test holds
 * the two equal), without building the hex and UUID strings and joining
 * them. Every string of a receipt is hex or a UUID: nothing to escape.
 */
import type { AppendReceipt } from '../receipt.js'
import { isZero16 } from '../ids.js'
import { Rcpt } from '../native/layouts.js'

/** The longest receipt: two UUIDs and a causation, 64-hex hashes, 20-digit numbers. */
const MAX_RECEIPT_BYTES = 460

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0))
const EVENT_ID = ascii('{"eventId":"')
const SEQUENCE = ascii('","globalSequence":"')
const CLOCK = ascii('","clock":')
const CONTENT = ascii(',"contentHash":"')
const PREV = ascii('","prevHash":"')
const DURABLE = ascii('","durable":')
const DEDUP = ascii(',"deduplicated":')
const CORRELATION = ascii(',"correlationId":"')
const CAUSATION = ascii('","causationId":')
const TIMESTAMP = ascii(',"timestampUs":')
const TRUE = ascii('true')
const FALSE = ascii('false')
const NULL = ascii('null')
const OPEN_LIST = ascii('{"receipts":[')
const CLOSE_LIST = ascii(']}')
/** Byte b's two lowercase hex digits at HEX2[2b] and HEX2[2b + 1]. */
const HEX2 = ascii(Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0')).join(''))

function put(out: Buffer, at: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) out[at + i] = bytes[i]!
  return at + bytes.length
}

function putHex(out: Buffer, at: number, src: Uint8Array, from: number, n: number): number {
  for (let i = 0; i < n; i++) {
    const b = src[from + i]! << 1
    out[at++] = HEX2[b]!
    out[at++] = HEX2[b + 1]!
  }
  return at
}

/** 16 bytes as 8-4-4-4-12. */
function putUuid(out: Buffer, at: number, src: Uint8Array, from: number): number {
  at = putHex(out, at, src, from, 4)
  out[at++] = 0x2d
  at = putHex(out, at, src, from + 4, 2)
  out[at++] = 0x2d
  at = putHex(out, at, src, from + 6, 2)
  out[at++] = 0x2d
  at = putHex(out, at, src, from + 8, 2)
  out[at++] = 0x2d
  return putHex(out, at, src, from + 10, 6)
}

/** A non-negative integer below 2^31, in decimal (integer arithmetic only). */
function putSmall(out: Buffer, at: number, v: number): number {
  let digits = 1
  for (let t = v; t >= 10; t = (t / 10) | 0) digits++
  for (let i = digits - 1; i >= 0; i--) {
    const q = (v / 10) | 0
    out[at + i] = 0x30 + v - q * 10
    v = q
  }
  return at + digits
}

/** A non-negative integer below 2^53, in decimal: split at 10^8 exactly (the remainder of an integer double is exact). */
function putUint(out: Buffer, at: number, v: number): number {
  if (v < 0x80000000) return putSmall(out, at, v)
  const low = v % 1e8
  const high = (v - low) / 1e8 // below 2^53 / 10^8 < 2^31
  at = putSmall(out, at, high)
  for (let i = 7, r = low; i >= 0; i--) {
    const q = (r / 10) | 0
    out[at + i] = 0x30 + r - q * 10
    r = q
  }
  return at + 8
}

/** Little-endian unsigned 32 bits at b[i]. */
const u32 = (b: Uint8Array, i: number): number => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16)) + b[i + 3]! * 0x1000000

/** The little-endian unsigned 64 bits at b[i], in decimal. */
function putU64(out: Buffer, at: number, b: Uint8Array, i: number): number {
  const hi = u32(b, i + 4)
  const lo = u32(b, i)
  if (hi < 0x200000) return putUint(out, at, hi * 0x100000000 + lo) // below 2^53: exact as a double
  return at + out.write(((BigInt(hi) << 32n) | BigInt(lo)).toString(), at, 'latin1')
}

/** The little-endian signed 64 bits at b[i] (a timestamp in µs, exact as a double), in decimal. */
function putI64(out: Buffer, at: number, b: Uint8Array, i: number): number {
  const hi = u32(b, i + 4) | 0
  const v = hi * 0x100000000 + u32(b, i)
  if (v >= 0) return putUint(out, at, v)
  out[at] = 0x2d
  return putUint(out, at + 1, -v)
}

function putReceipt(out: Buffer, at: number, r: AppendReceipt): number {
  const b = r.arenaBytes
  const o = r.arenaOffset
  const flags = b[o + Rcpt.flags]!
  at = put(out, at, EVENT_ID)
  at = putUuid(out, at, b, o + Rcpt.eventId)
  at = put(out, at, SEQUENCE)
  at = putU64(out, at, b, o + Rcpt.sequence)
  at = put(out, at, CLOCK)
  at = putUint(out, at, u32(b, o + Rcpt.clock))
  at = put(out, at, CONTENT)
  at = putHex(out, at, b, o + Rcpt.contentHash, 32)
  at = put(out, at, PREV)
  at = putHex(out, at, b, o + Rcpt.prevHash, 32)
  at = put(out, at, DURABLE)
  at = put(out, at, flags & Rcpt.durable ? TRUE : FALSE)
  at = put(out, at, DEDUP)
  at = put(out, at, flags & Rcpt.deduplicated ? TRUE : FALSE)
  at = put(out, at, CORRELATION)
  at = putUuid(out, at, b, o + Rcpt.correlation)
  // As AppendReceipt.causationId: flagged and not all zeros.
  const causation = (flags & Rcpt.hasCausation) !== 0 && !isZero16(b, o + Rcpt.causation)
  at = put(out, at, CAUSATION)
  if (causation) {
    out[at++] = 0x22
    at = putUuid(out, at, b, o + Rcpt.causation)
    out[at++] = 0x22
  } else at = put(out, at, NULL)
  at = put(out, at, TIMESTAMP)
  at = putI64(out, at, b, o + Rcpt.timestamp)
  out[at++] = 0x7d
  return at
}

const scratch = Buffer.allocUnsafe(MAX_RECEIPT_BYTES)

/** The JSON text of toJson(receiptWire(r)): written as bytes, read back as one flat one-byte string (all ASCII). */
export function receiptJson(r: AppendReceipt): string {
  return scratch.toString('latin1', 0, putReceipt(scratch, 0, r))
}

/** `{ receipts: [...] }` as JSON bytes (see receiptJson). */
export function receiptsJson(rs: readonly AppendReceipt[]): Buffer {
  const out = Buffer.allocUnsafe(OPEN_LIST.length + CLOSE_LIST.length + rs.length * (MAX_RECEIPT_BYTES + 1))
  let at = put(out, 0, OPEN_LIST)
  for (let i = 0; i < rs.length; i++) {
    if (i > 0) out[at++] = 0x2c
    at = putReceipt(out, at, rs[i]!)
  }
  return out.subarray(0, put(out, at, CLOSE_LIST))
}
