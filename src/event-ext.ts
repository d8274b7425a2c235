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

/** Checks one tag; returns its UTF-8 bytes. Throws InvalidTagError. */
export function tagBytes(tag: unknown, label = ''): Uint8Array {
  if (typeof tag !== 'string' || tag.length === 0) throw new InvalidTagError(`${label}a tag must be a non-empty string`)
  if (!tag.isWellFormed()) throw new InvalidTagError(`${label}tag holds a lone UTF-16 surrogate`)
  if (CONTROL.test(tag)) throw new InvalidTagError(`${label}tag ${JSON.stringify(tag.slice(0, 40))} holds a control character`)
  const b = encoder.encode(tag)
  if (b.length > Ext.maxTagBytes) throw new InvalidTagError(`${label}tag is ${b.length} bytes of UTF-8; the limit is ${Ext.maxTagBytes}`)
  return b
}

/** A list of tags checked and without repeats, in the order given. */
export function checkTags(tags: unknown, label = ''): string[] {
  if (!Array.isArray(tags)) throw new InvalidTagError(`${label}tags must be an array of strings`)
  const out: string[] = []
  for (const t of tags) {
    tagBytes(t, label)
    if (!out.includes(t as string)) out.push(t as string)
  }
  if (out.length > Ext.maxTags) throw new InvalidTagError(`${label}${out.length} tags; an event carries at most ${Ext.maxTags}`)
  return out
}

/** occurredAt (a Date or milliseconds since the epoch) in microseconds. Throws InvalidArgumentError. */
export function occurredAtUs(v: unknown, label = ''): number {
  const ms = v instanceof Date ? v.getTime() : v
  if (typeof ms !== 'number' || !Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) {
    throw new InvalidArgumentError(`${label}occurredAt must be a valid Date or milliseconds since the epoch, got ${String(v)}`)
  }
  return Math.round(ms * 1000)
}

/**
 * The block for an event, or undefined when it needs none. `version` is
 * its type's current version (1..65535, checked where it was defined).
 */
export function encodeExtension(version: number, occurredAt: unknown, tags: unknown, label = ''): Uint8Array | undefined {
  const hasTime = occurredAt !== undefined
  const list = tags === undefined ? [] : checkTags(tags, label)
  if (version === 1 && !hasTime && list.length === 0) return undefined
  const us = hasTime ? occurredAtUs(occurredAt, label) : 0
  const bytes = list.map((t) => encoder.encode(t))
  const len = Ext.tags + bytes.reduce((n, b) => n + 1 + b.length, 0)
  const out = new Uint8Array(len)
  const v = new DataView(out.buffer)
  v.setUint16(Ext.length, len, true)
  v.setUint16(Ext.version, version, true)
  out[Ext.fields] = hasTime ? Ext.hasOccurredAt : 0
  out[Ext.tagCount] = bytes.length
  v.setBigInt64(Ext.occurredAt, BigInt(us), true)
  let at = Ext.tags
  for (const b of bytes) {
    out[at] = b.length
    out.set(b, at + 1)
    at += 1 + b.length
  }
  return out
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
