import { InvalidKindError } from './errors.js'

/** Categories the store keeps for itself: 0 (system) and 0xD (effects). */
export const RESERVED_CATEGORIES: readonly number[] = [0x0, 0xd]

/**
 * An event kind: a 4-bit category and a 12-bit type, packed as
 * `category << 12 | type` in a u16 on disk.
 */
export class EventKind {
  readonly value: number

  private constructor(value: number) {
    this.value = value
    Object.freeze(this)
  }

  /** A kind of your own: category 1..15 except 0xD, type 0..4095. */
  static custom(category: number, type: number): EventKind {
    if (!Number.isInteger(category) || category < 0 || category > 15) {
      throw new InvalidKindError(`kind category must be an integer 1..15, got ${String(category)}`)
    }
    if (RESERVED_CATEGORIES.includes(category)) {
      throw new InvalidKindError(`kind category 0x${category.toString(16)} is reserved for the store`)
    }
    if (!Number.isInteger(type) || type < 0 || type > 0xfff) {
      throw new InvalidKindError(`kind type must be an integer 0..4095, got ${String(type)}`)
    }
    return new EventKind((category << 12) | type)
  }

  /** The kind with this packed u16 value, as read back from the log (reserved ones included). */
  static fromValue(value: number): EventKind {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
      throw new InvalidKindError(`kind value must be an integer 0..65535, got ${String(value)}`)
    }
    return cache[value] ?? (cache[value] = new EventKind(value))
  }

  get category(): number {
    return this.value >>> 12
  }

  get type(): number {
    return this.value & 0xfff
  }

  get reserved(): boolean {
    return RESERVED_CATEGORIES.includes(this.category)
  }

  equals(other: EventKind): boolean {
    return this.value === other.value
  }

  toString(): string {
    return `0x${this.value.toString(16).padStart(4, '0')}`
  }
}

const cache: (EventKind | undefined)[] = []

/** Checks a kind passed to an append: an EventKind that is not reserved. */
export function userKind(kind: unknown): EventKind {
  if (!(kind instanceof EventKind)) throw new InvalidKindError('kind must be an EventKind (EventKind.custom(category, type))')
  if (kind.reserved) throw new InvalidKindError(`kind ${kind} is in a reserved category`)
  return kind
}
