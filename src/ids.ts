import { InvalidArgumentError } from './errors.js'

const HEX: string[] = []
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'))

export function hex(bytes: Uint8Array, offset: number, length: number): string {
  let s = ''
  for (let i = 0; i < length; i++) s += HEX[bytes[offset + i]!]
  return s
}

/** 16 bytes as the canonical UUID string 8-4-4-4-12. */
export function uuidString(b: Uint8Array, o: number): string {
  const h = hex(b, o, 16)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i

/** Parses a UUID string (with or without dashes) into `out` at `offset`. */
export function parseUuid(what: string, value: unknown, out: Uint8Array, offset: number): void {
  if (typeof value !== 'string' || !UUID_RE.test(value)) {
    throw new InvalidArgumentError(`${what} must be a UUID string, got ${typeof value === 'string' ? JSON.stringify(value) : typeof value}`)
  }
  const h = value.replace(/-/g, '')
  for (let i = 0; i < 16; i++) out[offset + i] = parseInt(h.substr(i * 2, 2), 16)
}

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_RE.test(value)
}

const ZERO16 = new Uint8Array(16)
export function isZero16(b: Uint8Array, o: number): boolean {
  for (let i = 0; i < 16; i++) if (b[o + i] !== ZERO16[i]) return false
  return true
}
