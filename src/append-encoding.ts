/**
 * How an append is laid out for the addon: one event's fields (the same
 * validation and the same bytes for a single append and a batch item) and a
 * batch's items, payloads and keys.
 */
import { encodeAfter, encodeInto } from './codec.js'
import { encodeExtension, writeExtension } from './event-ext.js'
import { Coordinate } from './coordinate.js'
import { InvalidArgumentError, InvalidCoordinateError } from './errors.js'
import { parseUuid } from './ids.js'
import type { EventKind } from './kind.js'
import { Item, Req } from './native/layouts.js'
import type { BatchItem } from './store.js'

const MAX_KEY_BYTES = 1024
const encoder = new TextEncoder()

/** The offsets of one event's fields: the request buffer's (Req) or a batch item's (Item). */
export interface EventLayout {
  expected: number
  keyLen: number
  correlation: number
  causation: number
  kind: number
  flags: number
}

/** One event's optional fields, from AppendOptions or a BatchItem. */
export interface EventFields {
  expectedSequence?: number | undefined
  idempotencyKey?: string | undefined
  correlationId?: string | undefined
  occurredAt?: Date | number | undefined
  tags?: readonly string[] | undefined
}

function checkExpected(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new InvalidArgumentError(`expectedSequence must be an integer 0..4294967295, got ${String(v)}`)
  }
  return v
}

function checkKey(v: unknown): Uint8Array {
  if (typeof v !== 'string' || v.length === 0) throw new InvalidArgumentError('idempotencyKey must be a non-empty string')
  if (!v.isWellFormed()) throw new InvalidArgumentError('idempotencyKey contains a lone UTF-16 surrogate')
  const bytes = encoder.encode(v)
  if (bytes.length > MAX_KEY_BYTES) throw new InvalidArgumentError(`idempotencyKey is longer than ${MAX_KEY_BYTES} bytes`)
  return bytes
}

/**
 * Validates one event's fields and writes them in `layout` at `base` of
 * `out` (`view` over the same bytes): expected sequence, key length,
 * correlation, causation, and the flags saying which are set. Writes no
 * kind, entity or scope, and places no key bytes.
 *
 * `item` is the event's index in a batch (undefined for a single append):
 * it names the item in error messages, and only then may `causation` be
 * `{ priorItem }` or `{ eventId }` besides an event id.
 *
 * Returns the flags, the idempotency key's bytes (undefined without a
 * key) and a batch item's extension block (undefined when the event needs
 * none: type version 1, no occurredAt, no tags), for the caller to place: a
 * batch puts them after its payloads. A single append's block is written in
 * the request buffer (`out`, which must then be it) at once.
 */
export function encodeEvent(
  out: Uint8Array,
  view: DataView,
  base: number,
  layout: EventLayout,
  fields: EventFields,
  causation: unknown,
  version: number,
  item?: number,
): { flags: number; key: Uint8Array | undefined; ext: Uint8Array | undefined } {
  const label = item === undefined ? '' : `batch item ${item} `
  let flags = 0
  let key: Uint8Array | undefined
  let ext: Uint8Array | undefined
  if (item === undefined) {
    // A single append: the block goes straight into the request buffer.
    const n = writeExtension(out, Req.ext, version, fields.occurredAt, fields.tags, label)
    if (n > 0) {
      view.setUint32(Req.extLen, n, true)
      flags |= Req.hasExtension
    }
  } else {
    ext = encodeExtension(version, fields.occurredAt, fields.tags, label)
    if (ext) flags |= Req.hasExtension
  }
  if (fields.expectedSequence !== undefined) {
    view.setUint32(base + layout.expected, checkExpected(fields.expectedSequence), true)
    flags |= Req.hasExpected
  }
  if (fields.idempotencyKey !== undefined) {
    key = checkKey(fields.idempotencyKey)
    view.setUint32(base + layout.keyLen, key.length, true)
    flags |= Req.hasKey
  }
  if (fields.correlationId !== undefined) {
    parseUuid(`${label}correlationId`, fields.correlationId, out, base + layout.correlation)
    flags |= Req.hasCorrelation
  }
  if (causation !== undefined) {
    if (item === undefined) {
      parseUuid('causationId', causation, out, base + layout.causation)
      flags |= Req.hasCausation
    } else if (typeof causation === 'string') {
      parseUuid(`${label}causation`, causation, out, base + layout.causation)
      flags |= Req.hasCausation
    } else if (typeof causation === 'object' && causation !== null && 'priorItem' in causation) {
      const p = causation.priorItem
      if (!Number.isInteger(p) || (p as number) < 0 || (p as number) >= item) {
        throw new InvalidArgumentError(`batch item ${item}: causation.priorItem must name an earlier item (0..${item - 1})`)
      }
      view.setInt32(base + Item.priorItem, p as number, true)
      flags |= Req.priorItem
    } else if (typeof causation === 'object' && causation !== null && 'eventId' in causation) {
      parseUuid(`${label}causation.eventId`, causation.eventId, out, base + layout.causation)
      flags |= Req.hasCausation
    } else {
      throw new InvalidArgumentError(`batch item ${item}: causation must be an event id or { priorItem } or { eventId }`)
    }
  }
  return { flags, key, ext }
}

/** Places a single append's key and extension block in the request buffer. */
export function placeRequest(q: Uint8Array, v: DataView, key: Uint8Array | undefined, ext: Uint8Array | undefined): void {
  if (key) q.set(key, Req.key)
  if (ext) {
    q.set(ext, Req.ext)
    v.setUint32(Req.extLen, ext.length, true)
  }
}

/** Writes an event's kind and flags: the last step of laying out its fields. */
export function writeKind(out: Uint8Array, view: DataView, base: number, layout: EventLayout, kind: EventKind, flags: number): void {
  view.setUint16(base + layout.kind, kind.value, true)
  out[base + layout.flags] = flags
}

/** A batch laid out for the addon: item descriptors, payload and key bytes, item count. */
export interface BatchLayout {
  desc: Uint8Array
  bytes: Uint8Array
  n: number
}

/**
 * Validates and lays out batch items for the addon, of the kinds `kinds`
 * (resolved and schema-checked by the caller) at their types' `versions`. Payloads are encoded
 * (by `encode`, which checks their size) straight into `scratch` (no copy
 * after encoding), idempotency keys after them. Null when they do not all
 * fit: the caller lays the batch out again in a bigger buffer. The item
 * descriptors go into `desc` (n * Item.size bytes, zeroed here). `intern`
 * gives a coordinate's ids, asked only after every item validated, so a
 * refused batch interns nothing.
 */
export function layOutBatch(
  items: readonly BatchItem[],
  kinds: readonly EventKind[],
  versions: readonly number[],
  scratch: Buffer,
  desc: Uint8Array,
  encode: (payload: unknown) => Uint8Array,
  intern: (coord: Coordinate) => { entity: number; scope: number },
): BatchLayout | null {
  const n = items.length
  desc.fill(0) // reused: a field an item leaves unset must read 0
  const dv = new DataView(desc.buffer, desc.byteOffset, desc.byteLength)
  encodeInto(scratch)
  let end = 0
  let keys: Array<{ at: number; len: number; key: Uint8Array }> | null = null
  for (let i = 0; i < n; i++) {
    const it = items[i]! // an object: the caller checked each item when it resolved its kind
    if (!(it.coord instanceof Coordinate)) throw new InvalidCoordinateError(`batch item ${i}: coord must be a Coordinate`)
    const k = kinds[i]!
    const base = i * Item.size
    const bytes = encode(it.payload)
    if (bytes.buffer !== scratch.buffer) return null
    const at = bytes.byteOffset - scratch.byteOffset
    dv.setUint32(base + Item.payloadLen, bytes.length, true)
    dv.setUint32(base + Item.payloadOffset, at, true)
    end = at + bytes.length
    const { flags, key, ext } = encodeEvent(desc, dv, base, Item, it, it.causation, versions[i]!, i)
    if (key) (keys ??= []).push({ at: base + Item.keyOffset, len: base + Item.keyLen, key })
    if (ext) (keys ??= []).push({ at: base + Item.extOffset, len: base + Item.extLen, key: ext })
    writeKind(desc, dv, base, Item, k, flags)
  }
  if (keys) {
    // Keys and extension blocks, after the payloads.
    for (const { at, len, key } of keys) {
      if (end + key.length > scratch.length) return null
      scratch.set(key, end)
      dv.setUint32(at, end, true)
      dv.setUint32(len, key.length, true)
      end += key.length
    }
    encodeAfter(end) // an encode before the addon reads them must not land on the keys
  }
  for (let i = 0; i < n; i++) {
    const ids = intern(items[i]!.coord)
    dv.setUint32(i * Item.size + Item.entity, ids.entity, true)
    dv.setUint32(i * Item.size + Item.scope, ids.scope, true)
  }
  return { desc, bytes: scratch.subarray(0, end), n }
}
