import { Packr, Unpackr } from 'msgpackr'
import { InvalidPayloadError, PayloadTooLargeError } from './errors.js'

// Plain MessagePack: no record extension, so any msgpack reader can decode
// the stored payload bytes, and the bytes hashed are exactly the bytes kept.
const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true })

const MAX_DEPTH = 256

/**
 * A key msgpackr renames when it decodes (to `__proto_`, against prototype
 * pollution): stored as written, it would come back changed, so it is refused.
 */
const RENAMED_KEY = '__proto__'

function check(value: unknown, depth: number, path: string): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidPayloadError(`payload${path} is ${String(value)}, which is not a finite number`)
      return
    case 'object': {
      if (value === null) return
      if (depth >= MAX_DEPTH) throw new InvalidPayloadError(`payload is nested deeper than ${MAX_DEPTH} levels or is circular`)
      if (value instanceof Uint8Array || value instanceof Date) return
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) check(value[i], depth + 1, `${path}[${i}]`)
        return
      }
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) {
        throw new InvalidPayloadError(
          `payload${path} is a ${(value as object).constructor?.name ?? 'class instance'}; use plain objects, arrays, strings, numbers, booleans, null, Date or Uint8Array`,
        )
      }
      for (const k in value as Record<string, unknown>) {
        if (k === RENAMED_KEY) {
          throw new InvalidPayloadError(
            `payload${path}.${k} is a key named "${k}", which reads back renamed ("__proto_"); rename the key`,
          )
        }
        check((value as Record<string, unknown>)[k], depth + 1, `${path}.${k}`)
      }
      return
    }
    case 'undefined':
      throw new InvalidPayloadError(`payload${path} is undefined; use null or leave the key out`)
    default:
      throw new InvalidPayloadError(`payload${path} is a ${typeof value}, which cannot be stored`)
  }
}

/**
 * The hot-path form of `check`: a yes/no walk that builds no path strings.
 * Only a payload it refuses is walked again by `check`, for the message.
 */
function isPlain(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(value)
    case 'object': {
      if (value === null) return true
      if (depth >= MAX_DEPTH) return false
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isPlain(value[i], depth + 1)) return false
        return true
      }
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) return value instanceof Uint8Array || value instanceof Date
      for (const k in value as Record<string, unknown>) {
        if (k === RENAMED_KEY || !isPlain((value as Record<string, unknown>)[k], depth + 1)) return false
      }
      return true
    }
    default:
      return false
  }
}

/** Throws InvalidPayloadError, naming the path, unless the payload is plain data msgpack carries faithfully. */
export function checkPayload(value: unknown): void {
  if (!isPlain(value, 0)) check(value, 0, '')
}

/**
 * Encodes a payload to MessagePack after checking it is plain data. The
 * returned bytes are a view into a reused buffer: valid until the next call.
 */
export function encodePayload(value: unknown): Uint8Array {
  if (!isPlain(value, 0)) check(value, 0, '')
  return packr.pack(value)
}

/**
 * Batches: the payloads encoded next go straight into `buffer`, one after
 * another from its start (msgpackr writes there instead of its own buffer),
 * so a batch's payloads are laid out with no copy. One that does not fit
 * lands in a buffer msgpackr allocates: its bytes are then not a view of
 * `buffer`, which the caller checks.
 */
export function encodeInto(buffer: Uint8Array): void {
  packr.useBuffer(buffer)
  singleIsTarget = false
}

/** Batches: the next encode starts at or after `end` of the buffer given to encodeInto. */
export function encodeAfter(end: number): void {
  packr.position = end
}

/** encodePayload, refused with PayloadTooLargeError over `limit` bytes (the store's maxPayloadBytes). */
export function encodeWithin(payload: unknown, limit: number): Uint8Array {
  const bytes = encodePayload(payload)
  if (bytes.byteLength > limit) {
    throw new PayloadTooLargeError(`payload encodes to ${bytes.byteLength} bytes, over maxPayloadBytes (${limit})`, { size: bytes.byteLength, limit })
  }
  return bytes
}

// A single append's payload is encoded at the start of this buffer every
// time: left alone, msgpackr moves on through its buffer and allocates a
// fresh 8 KiB one whenever it nears the end (a zeroed allocation, a page
// fault and garbage every ~100 appends), and the bytes would go cold.
const single = Buffer.allocUnsafeSlow(64 * 1024)
/** Whether msgpackr still writes into `single` (no batch has given it another buffer since). */
let singleIsTarget = false

/**
 * encodeWithin for a single append: the bytes are valid until the next
 * encode of any kind (never use it between a batch's encodes).
 */
export function encodeSingleWithin(payload: unknown, limit: number): Uint8Array {
  if (!isPlain(payload, 0)) check(payload, 0, '')
  if (singleIsTarget) packr.position = 0
  else {
    packr.useBuffer(single)
    singleIsTarget = true
  }
  const bytes = packr.pack(payload)
  if (bytes.byteLength > limit) {
    throw new PayloadTooLargeError(`payload encodes to ${bytes.byteLength} bytes, over maxPayloadBytes (${limit})`, { size: bytes.byteLength, limit })
  }
  return bytes
}

/** Checks and encodes into a fresh buffer the caller may keep. */
export function encodePayloadCopy(value: unknown): Uint8Array {
  const b = encodePayload(value)
  return Uint8Array.prototype.slice.call(b)
}

export function decodePayload(bytes: Uint8Array): unknown {
  return unpackr.unpack(bytes)
}

// Reused for every in-place decode: msgpackr reads start and end once, at the call's start.
const span = { start: 0, end: 0 }

/**
 * Decodes the payload at `buf[start..end)` in place: no view per payload, and
 * msgpackr keeps its DataView on `buf` (one per read buffer, not one per event).
 */
export function decodePayloadIn(buf: Uint8Array, start: number, end: number): unknown {
  span.start = start
  span.end = end
  return unpackr.unpack(buf, span)
}

/** Decodes maps as Map, whose keys msgpackr leaves as written. */
const mapUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: false })
const RENAMED_KEY_BYTES = Buffer.from(RENAMED_KEY)

function findKey(value: unknown, path: string): string | undefined {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = findKey(value[i], `${path}[${i}]`)
      if (p !== undefined) return p
    }
  } else if (value instanceof Map) {
    for (const [k, v] of value) {
      if (k === RENAMED_KEY) return `${path}.${k}`
      const p = findKey(v, `${path}.${String(k)}`)
      if (p !== undefined) return p
    }
  }
  return undefined
}

/**
 * Stored payload bytes (an export's payloadBytes) whose maps hold a key that
 * decodePayload would rename: the path of the first ("payload.a.__proto__"),
 * or undefined. Decodes a second time only when the bytes hold the key's text.
 */
export function renamedKeyIn(bytes: Uint8Array): string | undefined {
  if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(RENAMED_KEY_BYTES) < 0) return undefined
  return findKey(mapUnpackr.unpack(bytes), 'payload')
}
