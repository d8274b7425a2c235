import { InvalidCoordinateError } from './errors.js'

/** Longest entity or scope, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 1024

/** Checks an entity or scope name; throws InvalidCoordinateError naming the rule broken. */
export function validateName(what: 'entity' | 'scope', value: unknown): string {
  if (typeof value !== 'string') {
    throw new InvalidCoordinateError(`${what} must be a string, got ${value === null ? 'null' : typeof value}`)
  }
  if (value.length === 0) throw new InvalidCoordinateError(`${what} must not be empty`)
  if (value.length > MAX_NAME_BYTES || Buffer.byteLength(value, 'utf8') > MAX_NAME_BYTES) {
    throw new InvalidCoordinateError(`${what} is longer than ${MAX_NAME_BYTES} bytes of UTF-8`)
  }
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) {
      throw new InvalidCoordinateError(`${what} contains the control character 0x${c.toString(16)} at index ${i}`)
    }
  }
  if (!value.isWellFormed()) {
    throw new InvalidCoordinateError(`${what} contains a lone UTF-16 surrogate, which UTF-8 cannot hold`)
  }
  return value
}

/** Where an event lives: an entity (its stream, e.g. "order:42") within a scope (e.g. "shop"). */
export class Coordinate {
  readonly entity: string
  readonly scope: string
  // The interned ids of the store that last used this coordinate: saves two
  // map lookups per append. A private field: never a property, so it never
  // shows in output, and cheaper than defining a hidden one per coordinate.
  readonly #interned: { owner: object | undefined; entity: number; scope: number } = { owner: undefined, entity: 0, scope: 0 }

  constructor(entity: string, scope: string) {
    this.entity = validateName('entity', entity)
    this.scope = validateName('scope', scope)
    Object.freeze(this)
  }

  /** @internal */
  get interned(): { owner: object | undefined; entity: number; scope: number } {
    return this.#interned
  }

  toString(): string {
    return `${this.entity}@${this.scope}`
  }

  equals(other: Coordinate): boolean {
    return this.entity === other.entity && this.scope === other.scope
  }
}
