// How Emmett's names map to causeway's: a stream name to an entity (reversibly
// escaped when causeway would refuse it), an event type to a named type (kept
// literally when it is a valid type name, otherwise a hashed name with the
// original type kept in the record), and Emmett's data and metadata to the
// stored payload (JSON text, as Emmett's SQLite and PostgreSQL stores keep it).
import { createHash } from 'node:crypto'
import { InvalidCoordinateError } from '../errors.js'
import { MAX_NAME_BYTES } from '../coordinate.js'

/** Entities that start with this are escaped stream names. */
export const ESCAPE = '~'
const TYPE_NAME = /^[A-Za-z0-9._:-]{1,128}$/
/** Prefix of the type names made for Emmett types causeway could not name as they are. */
export const HASHED_TYPE = 'emt.h.'

function plainEntity(name: string): boolean {
  if (name.length === 0 || name.startsWith(ESCAPE) || !name.isWellFormed()) return false
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) return false
  }
  return Buffer.byteLength(name, 'utf8') <= MAX_NAME_BYTES
}

/**
 * The causeway entity of an Emmett stream name: the name itself when causeway
 * takes it, else `~` followed by the UTF-16 code units in hex (4 digits each):
 * empty names, control characters, lone surrogates and names starting with `~`.
 */
export function streamToEntity(streamName: string): string {
  if (typeof streamName !== 'string') throw new InvalidCoordinateError(`an Emmett stream name must be a string, got ${typeof streamName}`)
  if (plainEntity(streamName)) return streamName
  let out = ESCAPE
  for (let i = 0; i < streamName.length; i++) out += streamName.charCodeAt(i).toString(16).padStart(4, '0')
  if (out.length > MAX_NAME_BYTES) {
    throw new InvalidCoordinateError(`the Emmett stream name needs escaping and is then longer than ${MAX_NAME_BYTES} bytes`)
  }
  return out
}

/** The Emmett stream name of a causeway entity (the inverse of streamToEntity). */
export function entityToStream(entity: string): string {
  if (!entity.startsWith(ESCAPE)) return entity
  let out = ''
  for (let i = 1; i + 4 <= entity.length; i += 4) out += String.fromCharCode(parseInt(entity.slice(i, i + 4), 16))
  return out
}

/** The causeway type name of an Emmett event type, and whether the record must carry the original. */
export function typeName(type: string): { name: string; literal: boolean } {
  if (typeof type === 'string' && TYPE_NAME.test(type) && !type.startsWith(HASHED_TYPE)) return { name: type, literal: true }
  if (typeof type !== 'string') throw new InvalidCoordinateError(`an Emmett event type must be a string, got ${typeof type}`)
  return { name: HASHED_TYPE + createHash('sha256').update(type).digest('hex').slice(0, 40), literal: false }
}

/** What a stored Emmett event's payload holds, as JSON text. */
export interface StoredBody {
  /** data */
  d: unknown
  /** metadata, when the event had any */
  m?: unknown
  /** the Emmett type, when the causeway type name is not it */
  t?: string
}

// As Emmett's JSONParser.stringify: bigints become decimal strings.
const replacer = (_: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v)

export function encodeBody(type: string, literal: boolean, data: unknown, metadata: unknown): string {
  const body: StoredBody = { d: data }
  if (metadata !== undefined) body.m = metadata
  if (!literal) body.t = type
  return JSON.stringify(body, replacer)
}

export function decodeBody(text: unknown): StoredBody {
  return JSON.parse(String(text)) as StoredBody
}
