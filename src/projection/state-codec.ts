import { Packr } from 'msgpackr'

/**
 * Projection states are stored as MessagePack (msgpackr). What round-trips
 * exactly: null, undefined, booleans, numbers, strings, bigints, Dates,
 * Uint8Arrays (Buffers come back as Buffers), arrays, Sets and plain objects
 * nested to any depth. Anything else (a Map, which msgpackr would turn into
 * a plain object, a class instance, a function, a symbol) is refused here,
 * so a state is either stored as it is or not at all.
 */
const packr = new Packr({ structuredClone: true, useRecords: false, moreTypes: true })

/** Why `v` cannot be stored, or undefined when it can. */
export function unstorable(v: unknown, at = 'state', seen = new Set<object>()): string | undefined {
  switch (typeof v) {
    case 'undefined':
    case 'boolean':
    case 'number':
    case 'string':
    case 'bigint':
      return undefined
    case 'object':
      break
    default:
      return `${at} is a ${typeof v}`
  }
  if (v === null || v instanceof Date || v instanceof Uint8Array) return undefined
  if (seen.has(v)) return undefined
  seen.add(v)
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const why = unstorable(v[i], `${at}[${i}]`, seen)
      if (why) return why
    }
    return undefined
  }
  if (v instanceof Set) {
    for (const x of v) {
      const why = unstorable(x, `${at} (a Set member)`, seen)
      if (why) return why
    }
    return undefined
  }
  const proto = Object.getPrototypeOf(v) as unknown
  if (proto !== Object.prototype && proto !== null) {
    return `${at} is a ${(v as { constructor?: { name?: string } }).constructor?.name ?? 'class instance'}, not a plain object`
  }
  for (const k of Object.keys(v)) {
    const why = unstorable((v as Record<string, unknown>)[k], `${at}.${k}`, seen)
    if (why) return why
  }
  return undefined
}

export function packState(v: unknown): Buffer {
  return packr.pack(v)
}

export function unpackState(b: Uint8Array): unknown {
  return packr.unpack(b)
}

/** The container of a snapshot file (no state in it is decoded by this). */
export function packPlain(v: unknown): Buffer {
  return packr.pack(v)
}
