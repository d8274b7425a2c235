import { validateName } from './coordinate.js'
import { InvalidArgumentError, InvalidKindError, InvalidTagError } from './errors.js'
import { checkTags } from './event-ext.js'
import { EventKind } from './kind.js'
import type { NativeFilter } from './native/binding.js'
import { checkTypeName } from './types/registry.js'

/** What turns a type name into its kind when a region is run: the store's type registry. */
export interface KindLookup {
  kindOf(name: string): EventKind
}

interface RegionParts {
  entity?: string
  scope?: string
  kind?: number
  /** A type name, resolved to its kind by the store the region runs on. */
  type?: string
  category?: number
  clock?: readonly [number, number]
  timeMs?: readonly [number, number]
  /** Every one of these tags (served from the tag postings). */
  tags?: readonly string[]
  /** Event time (occurredAt, else the record time), inclusive, in µs. */
  occurredUs?: readonly [number, number]
}

function checkU32(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new InvalidArgumentError(`${what} must be an integer 0..4294967295, got ${String(v)}`)
  }
  return v
}

function checkMs(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidArgumentError(`${what} must be a finite number of milliseconds`)
  return v
}

/** A Date or milliseconds since the epoch, as milliseconds. */
function instantMs(what: string, v: unknown): number {
  if (v instanceof Date) {
    const ms = v.getTime()
    if (Number.isNaN(ms)) throw new InvalidArgumentError(`${what} is an invalid Date`)
    return ms
  }
  return checkMs(what, v)
}

/**
 * A selection of events. Every part that is set must match (they are ANDed).
 * Immutable: each `with*` returns a new Region.
 */
export class Region {
  private readonly parts: RegionParts

  private constructor(parts: RegionParts) {
    this.parts = parts
    Object.freeze(this)
  }

  /** Every event. */
  static all(): Region {
    return new Region({})
  }

  /** The entity itself and every entity under it: "order" matches "order" and "order:42", never "orders". */
  static entity(prefix: string): Region {
    return new Region({ entity: validateName('entity', prefix) })
  }

  /** Every event in one scope. */
  static scope(scope: string): Region {
    return new Region({ scope: validateName('scope', scope) })
  }

  withScope(scope: string): Region {
    return new Region({ ...this.parts, scope: validateName('scope', scope) })
  }

  /** Events of one kind, or of one type name (looked up when the region runs on a store). */
  withFact(kind: EventKind | string): Region {
    const { category: _c, kind: _k, type: _t, ...rest } = this.parts
    if (typeof kind === 'string') return new Region({ ...rest, type: checkTypeName(kind) })
    if (!(kind instanceof EventKind)) throw new InvalidKindError('withFact expects an EventKind or a type name')
    return new Region({ ...rest, kind: kind.value })
  }

  withFactCategory(category: number): Region {
    if (!Number.isInteger(category) || category < 0 || category > 15) {
      throw new InvalidKindError(`category must be an integer 0..15, got ${String(category)}`)
    }
    const { kind: _k, type: _t, ...rest } = this.parts
    return new Region({ ...rest, category })
  }

  /** Events whose per-entity clock is within [from, to], both inclusive. */
  withClockRange(from: number, to: number): Region {
    const a = checkU32('clock range start', from)
    const b = checkU32('clock range end', to)
    if (a > b) throw new InvalidArgumentError(`clock range start ${a} is after its end ${b}`)
    return new Region({ ...this.parts, clock: [a, b] })
  }

  /** Events whose timestamp is within [fromMs, toMs], both inclusive, in Unix milliseconds. */
  withTimeRange(fromMs: number, toMs: number): Region {
    const a = checkMs('time range start', fromMs)
    const b = checkMs('time range end', toMs)
    if (a > b) throw new InvalidArgumentError(`time range start ${a} is after its end ${b}`)
    return new Region({ ...this.parts, timeMs: [a, b] })
  }

  /**
   * Events carrying every one of these tags (added to any the region already
   * asks for), checked as append checks tags: InvalidTagError.
   */
  withTags(...tags: string[]): Region {
    const all = checkTags([...(this.parts.tags ?? []), ...tags], 'region ')
    if (all.length === 0) throw new InvalidTagError('withTags needs at least one tag')
    return new Region({ ...this.parts, tags: Object.freeze(all) })
  }

  /**
   * Events whose event time (occurredAt, else the record time) is within
   * [from, to], both inclusive: Dates or Unix milliseconds.
   */
  withOccurredRange(from: Date | number, to: Date | number): Region {
    const a = instantMs('occurred range start', from)
    const b = instantMs('occurred range end', to)
    if (a > b) throw new InvalidArgumentError(`occurred range start ${a} is after its end ${b}`)
    // The same µs bounds as withTimeRange: `to` takes in its whole millisecond.
    return new Region({ ...this.parts, occurredUs: [Math.ceil(a * 1000), Math.floor(b * 1000 + 999)] })
  }

  /** The tags of `withTags`, if any. */
  get tags(): readonly string[] | undefined {
    return this.parts.tags
  }

  get entity(): string | undefined {
    return this.parts.entity
  }
  get scope(): string | undefined {
    return this.parts.scope
  }

  /** A stable text form, e.g. for naming a cursor's checkpoint after its region. */
  toString(): string {
    const p = this.parts
    // Parts added later come after the original five, only when set: the
    // names of existing cursor checkpoints stay what they were.
    const extra: string[] = []
    if (p.tags) extra.push(`tags=${JSON.stringify([...p.tags].sort())}`)
    if (p.occurredUs) extra.push(`occurred=${p.occurredUs.join('..')}`)
    return [
      `entity=${p.entity ?? '*'}`,
      `scope=${p.scope ?? '*'}`,
      `fact=${p.kind !== undefined ? p.kind.toString(16) : p.type !== undefined ? p.type : p.category !== undefined ? `c${p.category}` : '*'}`,
      `clock=${p.clock ? p.clock.join('..') : '*'}`,
      `time=${p.timeMs ? p.timeMs.join('..') : '*'}`,
      ...extra,
    ].join('|')
  }

  /** The type name of `withFact(name)`, if any. */
  get type(): string | undefined {
    return this.parts.type
  }

  /** @internal the filter the native index runs; `types` resolves a type name (UnknownTypeError if undefined). */
  toFilter(types?: KindLookup): NativeFilter {
    const p = this.parts
    const f: NativeFilter = {}
    if (p.entity !== undefined) f.entity = p.entity
    if (p.scope !== undefined) f.scope = p.scope
    if (p.kind !== undefined) f.kind = p.kind
    if (p.type !== undefined) {
      if (!types) throw new InvalidArgumentError(`region ${this}: a type name needs a store to look it up`)
      f.kind = types.kindOf(p.type).value
    }
    if (p.category !== undefined) f.category = p.category
    if (p.clock) {
      f.clockFrom = p.clock[0]
      f.clockTo = p.clock[1]
    }
    if (p.timeMs) {
      f.timeFromUs = Math.ceil(p.timeMs[0] * 1000)
      f.timeToUs = Math.floor(p.timeMs[1] * 1000 + 999)
    }
    if (p.tags) f.tags = [...p.tags]
    if (p.occurredUs) {
      f.occurredFromUs = p.occurredUs[0]
      f.occurredToUs = p.occurredUs[1]
    }
    return f
  }
}
