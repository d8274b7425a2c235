import { EventKind, isCausewayError } from '../index.js'
import { checkTypeName } from '../types/registry.js'
import { UsageError } from './errors.js'

/**
 * A kind written on the command line or in an import line: a packed value
 * (`4097`, `0x1001`) or `category:type` (`1:1`).
 */
export function parseKind(text: string | number): EventKind {
  if (typeof text === 'number') return EventKind.fromValue(text)
  const t = text.trim()
  const pair = /^(\d+|0x[0-9a-f]+):(\d+|0x[0-9a-f]+)$/i.exec(t)
  if (pair) {
    const c = Number(pair[1])
    const ty = Number(pair[2])
    if (c > 15 || ty > 0xfff) throw new UsageError(`kind ${t}: category must be 0..15 and type 0..4095`)
    return EventKind.fromValue((c << 12) | ty)
  }
  if (/^(\d+|0x[0-9a-f]+)$/i.test(t)) {
    const v = Number(t)
    if (v > 0xffff) throw new UsageError(`kind ${t} is over 0xffff`)
    return EventKind.fromValue(v)
  }
  throw new UsageError(`kind ${JSON.stringify(text)}: write a packed value (4097, 0x1001) or category:type (1:1, 1:*)`)
}

/** What a KindSet looks type names up in: a store's type registry. */
export interface TypeLookup {
  kindOf(name: string): EventKind
  list(): ReadonlyArray<{ readonly name: string }>
}

/**
 * A set of kinds from `1:1,0x2001,3:*,order.placed` (`c:*` is the whole
 * category; text not starting with a digit is a type name, as for --kind).
 * Names are checked for form here, and looked up by resolve() once the
 * store is open: a name's kind is the store's to say.
 */
export class KindSet {
  private readonly values = new Set<number>()
  private readonly categories = new Set<number>()
  private readonly names: string[] = []
  private resolved = false

  constructor(list: string) {
    for (const part of list.split(',').map((s) => s.trim()).filter(Boolean)) {
      const whole = /^(\d+|0x[0-9a-f]+):\*$/i.exec(part)
      if (whole) {
        const c = Number(whole[1])
        if (c > 15) throw new UsageError(`kind ${part}: category must be 0..15`)
        this.categories.add(c)
      } else if (/^[0-9]/.test(part)) {
        this.values.add(parseKind(part).value)
      } else {
        this.names.push(typeName(part))
      }
    }
    if (this.values.size === 0 && this.categories.size === 0 && this.names.length === 0) throw new UsageError(`no kind in ${JSON.stringify(list)}`)
    this.resolved = this.names.length === 0
  }

  /** Whether the list holds type names, to be looked up by resolve(). */
  get named(): boolean {
    return this.names.length > 0
  }

  /** Looks the type names up in `types`; a name it has not is a UsageError listing the names it has. */
  resolve(types: TypeLookup): this {
    for (const name of this.names) this.values.add(kindOfName(types, name).value)
    this.resolved = true
    return this
  }

  has(kind: EventKind): boolean {
    // A name left unresolved would silently match nothing: a bug, not a usage error.
    if (!this.resolved) throw new Error(`KindSet.has before resolve(): type names ${this.names.join(', ')} not looked up`)
    return this.values.has(kind.value) || this.categories.has(kind.category)
  }
}

/** The kind of a type name given on the command line; a name the store has not is a UsageError listing the names it has. */
export function kindOfName(types: TypeLookup, name: string): EventKind {
  try {
    return types.kindOf(name)
  } catch (e) {
    if (!isCausewayError(e, 'E_UNKNOWN_TYPE')) throw e
    const known = types.list().map((t) => t.name)
    throw new UsageError(`no type named ${name} in this store (its types: ${known.length ? known.join(', ') : 'none'})`)
  }
}

function typeName(part: string): string {
  try {
    return checkTypeName(part)
  } catch (e) {
    if (!isCausewayError(e, 'E_INVALID_TYPE_NAME')) throw e
    throw new UsageError(`kind ${JSON.stringify(part)}: write a packed value (4097, 0x1001), category:type (1:1, 1:*) or a type name (order.placed)`)
  }
}

/**
 * A point in time: ISO 8601 (`2025-01-31`, `2025-01-31T12:00:00Z`) or an age
 * (`30d`, `12h`, `15m`, `45s`: that long before `now`). Returns µs since the epoch.
 */
export function parseTime(text: string, now = Date.now()): number {
  const age = /^(\d+)([dhms])$/.exec(text.trim())
  if (age) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }[age[2] as 'd' | 'h' | 'm' | 's']
    return (now - Number(age[1]) * unit) * 1000
  }
  const ms = Date.parse(text)
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim()) || Number.isNaN(ms)) {
    throw new UsageError(`time ${JSON.stringify(text)}: write ISO 8601 (2025-01-31, 2025-01-31T12:00:00Z) or an age (30d, 12h, 15m, 45s)`)
  }
  return ms * 1000
}
