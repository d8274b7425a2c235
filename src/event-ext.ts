/**
 * The frame's extension block (native/FORMAT.md, "Extension block"): an
 * event's type version, its event time (occurredAt) and its tags. Events
 * with none of them (version 1, no occurredAt, no tags) carry no block and
 * are byte for byte the frames of format version 1.
 */
import { InvalidArgumentError, InvalidTagError } from './errors.js'
import { Frame } from './native/layouts.js'

/** Layout of the block, after the payload (unaligned). */
export const Ext = {
  length: 0,
  version: 2,
  fields: 4,
  tagCount: 5,
  occurredAt: 6,
  tags: 14,
  hasOccurredAt: 0x01,
  maxTags: 32,
  maxTagBytes: 128,
} as const

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })
// C0 controls, DEL and C1 controls: a tag is printable text.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
/** Milliseconds a Date can hold either side of the epoch. */
const MAX_DATE_MS = 8.64e15

/**
 * Checks one tag; returns its length in UTF-8 bytes. Throws InvalidTagError.
 * An ASCII tag is checked in one pass over its characters; others take the
 * general path (surrogates, C1 controls, UTF-8 length).
 */
export function tagByteLength(tag: unknown, label = ''): number {
  if (typeof tag !== 'string' || tag.length === 0) throw new InvalidTagError(`${label}a tag must be a non-empty string`)
  let ascii = true
  for (let i = 0; i < tag.length; i++) {
    const c = tag.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) throw new InvalidTagError(`${label}tag ${JSON.stringify(tag.slice(0, 40))} holds a control character`)
    if (c > 0x7f) {
      ascii = false
      break
    }
  }
  if (ascii) {
    if (tag.length > Ext.maxTagBytes) throw new InvalidTagError(`${label}tag is ${tag.length} bytes of UTF-8; the limit is ${Ext.maxTagBytes}`)
    return tag.length
  }
  if (!tag.isWellFormed()) throw new InvalidTagError(`${label}tag holds a lone UTF-16 surrogate`)
  if (CONTROL.test(tag)) throw new InvalidTagError(`${label}tag ${JSON.stringify(tag.slice(0, 40))} holds a control character`)
  const n = Buffer.byteLength(tag, 'utf8')
  if (n > Ext.maxTagBytes) throw new InvalidTagError(`${label}tag is ${n} bytes of UTF-8; the limit is ${Ext.maxTagBytes}`)
  return n
}

/** A list of tags checked and without repeats, in the order given. */
export function checkTags(tags: unknown, label = ''): string[] {
  if (!Array.isArray(tags)) throw new InvalidTagError(`${label}tags must be an array of strings`)
  const out: string[] = []
  for (const t of tags) {
    tagByteLength(t, label)
    if (!out.includes(t as string)) out.push(t as string)
  }
  if (out.length > Ext.maxTags) throw new InvalidTagError(`${label}${out.length} tags; an event carries at most ${Ext.maxTags}`)
  return out
}

/** Up to this many ASCII tags take the one-pass path (no allocation). */
const FEW_TAGS = 8
/** A batch item's block is laid out here, then copied to its own array. */
const ITEM_BLOCK = new Uint8Array(Ext.tags + Ext.maxTags * (1 + Ext.maxTagBytes))

/** occurredAt (a Date or milliseconds since the epoch) in microseconds. Throws InvalidArgumentError. */
export function occurredAtUs(v: unknown, label = ''): number {
  const ms = v instanceof Date ? v.getTime() : v
  if (typeof ms !== 'number' || !Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) {
    throw new InvalidArgumentError(`${label}occurredAt must be a valid Date or milliseconds since the epoch, got ${String(v)}`)
  }
  return Math.round(ms * 1000)
}

/**
 * The block for a batch item, or undefined when it needs none. `version`
 * is its type's current version (1..65535, checked where it was defined).
 */
export function encodeExtension(version: number, occurredAt: unknown, tags: unknown, label = ''): Uint8Array | undefined {
  const n = writeExtension(ITEM_BLOCK, 0, version, occurredAt, tags, label)
  return n === 0 ? undefined : ITEM_BLOCK.slice(0, n)
}

/**
 * Writes the block for an event at `at0` of `out`, which must have room
 * for the largest block (a single append passes its request buffer: no
 * allocation); returns its length, or 0 when the event needs none. Throws
 * InvalidTagError or InvalidArgumentError; the bytes at `at0` are then
 * scratch, never a block (the caller flags a block only on success).
 *
 * The common case, at most 8 ASCII tags, is checked and copied in one pass
 * over each tag's characters; anything else takes the general path.
 */
export function writeExtension(out: Uint8Array, at0: number, version: number, occurredAt: unknown, tags: unknown, label = ''): number {
  if (tags === undefined || (Array.isArray(tags) && tags.length === 0)) {
    return version === 1 && occurredAt === undefined ? 0 : writeHeader(out, at0, Ext.tags, version, occurredAt, 0, label)
  }
  if (!Array.isArray(tags) || tags.length > FEW_TAGS) return writeGeneral(out, at0, version, occurredAt, tags, label)
  let at = at0 + Ext.tags
  let count = 0
  next: for (let i = 0; i < tags.length; i++) {
    const t: unknown = tags[i]
    if (typeof t !== 'string') return writeGeneral(out, at0, version, occurredAt, tags, label)
    const n = t.length
    if (n === 0 || n > Ext.maxTagBytes) return writeGeneral(out, at0, version, occurredAt, tags, label)
    // A repeat of an earlier tag (kept, or itself a repeat of a kept one) is skipped.
    for (let j = 0; j < i; j++) if (tags[j] === t) continue next
    const body = at + 1
    for (let k = 0; k < n; k++) {
      const c = t.charCodeAt(k)
      // A control character or anything beyond ASCII: the general path checks (and reports) it.
      if (c < 0x20 || c >= 0x7f) return writeGeneral(out, at0, version, occurredAt, tags, label)
      out[body + k] = c
    }
    out[at] = n
    at = body + n
    count++
  }
  return writeHeader(out, at0, at - at0, version, occurredAt, count, label)
}

/** writeExtension for any tags: checked with checkTags, encoded with TextEncoder. */
function writeGeneral(out: Uint8Array, at0: number, version: number, occurredAt: unknown, tags: unknown, label: string): number {
  const list = checkTags(tags, label)
  if (list.length === 0 && version === 1 && occurredAt === undefined) return 0
  let at = at0 + Ext.tags
  for (const t of list) {
    const { written } = encoder.encodeInto(t, out.subarray(at + 1, at + 1 + Ext.maxTagBytes))
    out[at] = written
    at += 1 + written
  }
  return writeHeader(out, at0, at - at0, version, occurredAt, list.length, label)
}

/** The block's fixed fields, before its tags (laid out already); returns its length. */
function writeHeader(out: Uint8Array, at0: number, len: number, version: number, occurredAt: unknown, count: number, label: string): number {
  const hasTime = occurredAt !== undefined
  const us = hasTime ? occurredAtUs(occurredAt, label) : 0
  // Written byte by byte: a DataView or a Buffer method on a small array
  // makes V8 give it an ArrayBuffer of its own first, which costs more
  // (about 1 µs) than the rest of the block.
  out[at0 + Ext.length] = len & 0xff
  out[at0 + Ext.length + 1] = len >>> 8
  out[at0 + Ext.version] = version & 0xff
  out[at0 + Ext.version + 1] = version >>> 8
  out[at0 + Ext.fields] = hasTime ? Ext.hasOccurredAt : 0
  out[at0 + Ext.tagCount] = count
  if (hasTime) putInt64(out, at0 + Ext.occurredAt, us)
  else for (let i = 0; i < 8; i++) out[at0 + Ext.occurredAt + i] = 0
  return len
}

/** An integer (|v| < 2^63, exact as a double) as little-endian two's-complement 64 bits. */
function putInt64(out: Uint8Array, at: number, v: number): void {
  const hi = Math.floor(v / 4294967296)
  let lo = v - hi * 4294967296
  let h = hi | 0 // two's complement of the high word
  for (let i = 0; i < 4; i++, lo = Math.floor(lo / 256)) out[at + i] = lo & 0xff
  for (let i = 4; i < 8; i++, h >>= 8) out[at + i] = h & 0xff
}

/** The offset of the block of the frame at `o`, or -1 when it has none. */
export function extensionAt(b: Uint8Array, v: DataView, o: number): number {
  if ((b[o + Frame.flags]! & Frame.flagExtension) === 0) return -1
  return o + Frame.variable + v.getUint16(o + Frame.entityLen, true) + v.getUint16(o + Frame.scopeLen, true) + v.getUint32(o + Frame.payloadLen, true)
}

/** The type version an event was stored with (1 without a block). */
export function storedVersionAt(b: Uint8Array, v: DataView, o: number): number {
  const x = extensionAt(b, v, o)
  return x < 0 ? 1 : v.getUint16(x + Ext.version, true)
}

/** The event time in µs: the block's occurredAt, else the record timestamp. */
export function occurredUsAt(b: Uint8Array, v: DataView, o: number): number {
  const x = extensionAt(b, v, o)
  if (x >= 0 && b[x + Ext.fields]! & Ext.hasOccurredAt) return Number(v.getBigInt64(x + Ext.occurredAt, true))
  return Number(v.getBigInt64(o + Frame.timestamp, true))
}

/** Whether the event was given an occurredAt at append. */
export function hasOccurredAt(b: Uint8Array, v: DataView, o: number): boolean {
  const x = extensionAt(b, v, o)
  return x >= 0 && (b[x + Ext.fields]! & Ext.hasOccurredAt) !== 0
}

/** The event's tags, in the order appended. */
export function tagsAt(b: Uint8Array, v: DataView, o: number): string[] {
  const x = extensionAt(b, v, o)
  if (x < 0) return []
  const out: string[] = []
  let at = x + Ext.tags
  for (let i = 0; i < b[x + Ext.tagCount]!; i++) {
    const n = b[at]!
    out.push(decoder.decode(b.subarray(at + 1, at + 1 + n)))
    at += 1 + n
  }
  return out
}
