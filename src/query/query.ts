/**
 * A DCB query (dcb.events): an OR of items, each item an AND of "the type
 * is one of these" and "the event carries every one of these tags". The
 * native index serves each item from its tag and kind postings and merges
 * the items in sequence order.
 */
import { InvalidArgumentError, InvalidKindError, InvalidQueryError } from '../errors.js'
import { checkTags } from '../event-ext.js'
import { EventKind } from '../kind.js'
import type { NativeFilter } from '../native/binding.js'
import type { KindLookup } from '../region.js'
import { checkTypeName } from '../types/registry.js'

/** One item of a Query: the event's type is one of `types` (any when absent) and it carries every tag of `tags`. */
export interface QueryItem {
  readonly types?: readonly (string | EventKind)[]
  readonly tags?: readonly string[]
}

const ITEM_KEYS = ['types', 'tags']

/** An item checked and frozen; types keep their names until the query runs on a store. */
function checkItem(item: unknown, i: number): QueryItem {
  const label = `query item ${i}: `
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw new InvalidQueryError(`${label}an item must be an object { types?, tags? }`)
  }
  for (const key in item) {
    if (!ITEM_KEYS.includes(key)) throw new InvalidQueryError(`${label}unknown key '${key}'; accepted: types, tags`)
  }
  const { types, tags } = item as QueryItem
  if (types !== undefined && !Array.isArray(types)) throw new InvalidQueryError(`${label}types must be an array of type names or EventKinds`)
  const typeList: (string | EventKind)[] = []
  for (const t of types ?? []) {
    if (typeof t === 'string') checkTypeName(t)
    else if (!(t instanceof EventKind)) throw new InvalidKindError(`${label}types must hold type names or EventKinds`)
    if (!typeList.some((u) => (u instanceof EventKind && t instanceof EventKind ? u.equals(t) : u === t))) typeList.push(t)
  }
  const tagList = tags === undefined ? [] : checkTags(tags, label)
  // dcb.events: an item names at least one type or one tag; an empty one would match everything by accident.
  if (typeList.length === 0 && tagList.length === 0) throw new InvalidQueryError(`${label}an item needs at least one type or one tag`)
  const out: { types?: readonly (string | EventKind)[]; tags?: readonly string[] } = {}
  if (typeList.length > 0) out.types = Object.freeze(typeList)
  if (tagList.length > 0) out.tags = Object.freeze(tagList)
  return Object.freeze(out)
}

function typeText(t: string | EventKind): string {
  return typeof t === 'string' ? t : `#${t.value.toString(16)}`
}

/** Immutable. `Query.items(...)` (alias `Query.of`) or `Query.all()`. */
export class Query {
  /** @internal null: every event. */
  private readonly list: readonly QueryItem[] | null

  private constructor(list: readonly QueryItem[] | null) {
    this.list = list
    Object.freeze(this)
  }

  /** Every event (the DCB "all" query). */
  static all(): Query {
    return new Query(null)
  }

  /** Events matching any one of the items. No items: InvalidQueryError. */
  static items(...items: QueryItem[]): Query {
    if (items.length === 0) throw new InvalidQueryError('a query needs at least one item (Query.all() selects every event)')
    return new Query(Object.freeze(items.map(checkItem)))
  }

  /** Same as `Query.items`. */
  static of(...items: QueryItem[]): Query {
    return Query.items(...items)
  }

  /** Events matching this query or the other one. */
  or(other: Query): Query {
    if (!(other instanceof Query)) throw new InvalidArgumentError('or expects a Query')
    if (this.list === null || other.list === null) return Query.all()
    return new Query(Object.freeze([...this.list, ...other.list]))
  }

  /** The items; empty for `Query.all()`. */
  get items(): readonly QueryItem[] {
    return this.list ?? []
  }

  /** Whether this is `Query.all()`. */
  get isAll(): boolean {
    return this.list === null
  }

  /** A stable text form, e.g. for naming a cursor's checkpoint after its query. */
  toString(): string {
    if (this.list === null) return 'query=*'
    const items = this.list.map((it) => {
      const types = it.types ? it.types.map(typeText).sort().join(',') : '*'
      const tags = it.tags ? JSON.stringify([...it.tags].sort()) : '*'
      return `(types=${types};tags=${tags})`
    })
    return `query=${items.join('|')}`
  }

  /** @internal the filter the native index runs; `types` resolves type names (UnknownTypeError if undefined). */
  toFilter(types?: KindLookup): NativeFilter {
    if (this.list === null) return {}
    const anyOf = this.list.map((it): NativeFilter => {
      const f: NativeFilter = {}
      if (it.types) {
        f.kinds = it.types.map((t) => {
          if (typeof t !== 'string') return t.value
          if (!types) throw new InvalidArgumentError(`query ${this}: a type name needs a store to look it up`)
          return types.kindOf(t).value
        })
      }
      if (it.tags) f.tags = [...it.tags]
      return f
    })
    return { anyOf }
  }
}
