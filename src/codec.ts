import { Packr, Unpackr } from 'msgpackr'
import { InvalidPayloadError } from './errors.js'

// Plain MessagePack: no record extension, so any msgpack reader can decode
// the stored payload bytes, and the bytes hashed are exactly the bytes kept.
const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true })

const MAX_DEPTH = 256

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
      for (const k in value as Record<string, unknown>) check((value as Record<string, unknown>)[k], depth + 1, `${path}.${k}`)
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
      for (const k in value as Record<string, unknown>) if (!isPlain((value as Record<string, unknown>)[k], depth + 1)) return false
      return true
    }
    default:
      return false
  }
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
}

/** Batches: the next encode starts at or after `end` of the buffer given to encodeInto. */
export function encodeAfter(end: number): void {
  packr.position = end
}

/** Checks and encodes into a fresh buffer the caller may keep. */
export function encodePayloadCopy(value: unknown): Uint8Array {
  const b = encodePayload(value)
  return Uint8Array.prototype.slice.call(b)
}

export function decodePayload(bytes: Uint8Array): unknown {
  return unpackr.unpack(bytes)
}
