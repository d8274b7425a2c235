/**
 * The wire forms of the library's arguments and results. Requests are
 * decoded into the very objects an embedded caller passes (Coordinate,
 * Region, Query, AppendOptions, BatchItem), so the library's own checks
 * judge them and answer with its own typed errors; these functions only
 * check the shape the wire adds (unknown keys, strings for bigints).
 *
 * Region: { entity?, scope?, type?, kind?, category?, tags?, clock?: [from, to],
 *           timeMs?: [from, to], occurred?: [from, to] }  (parts ANDed)
 * Query:  { items: [{ types?: (name | kind value)[], tags? }] } or { all: true }
 */
import type { AppendOptions, BatchItem } from '../append-options.js'
import { Coordinate } from '../coordinate.js'
import { InvalidArgumentError } from '../errors.js'
import type { StoredEvent } from '../event.js'
import { EventKind } from '../kind.js'
import { Query, type QueryItem } from '../query/query.js'
import type { AppendReceipt } from '../receipt.js'
import { Region } from '../region.js'

type Obj = Record<string, unknown>

export function object(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) throw new InvalidArgumentError(`${what} must be an object`)
  return v as Obj
}

/** Refuses keys outside `allowed`: a misspelt option must not be silently ignored over the wire either. */
export function onlyKeys(o: Obj, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new InvalidArgumentError(`${what}: unknown key '${k}'; accepted: ${allowed.join(', ')}`)
  }
}

/** A global sequence: a bigint (MessagePack), a decimal string (JSON's form for bigints) or a safe integer. */
export function sequence(v: unknown, what: string): bigint {
  if (typeof v === 'bigint' && v >= 0n) return v
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v)
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return BigInt(v)
  throw new InvalidArgumentError(`${what} must be a non-negative integer (as a decimal string in JSON), got ${JSON.stringify(String(v))}`)
}

/** Numbers from MessagePack may arrive as bigints; the library's numeric options are numbers. */
function num(v: unknown): unknown {
  return typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v
}

/** An event time: ms since the epoch, an ISO 8601 string, or a Date (MessagePack's timestamp). */
function instant(v: unknown, what: string): Date | number {
  if (v instanceof Date || typeof v === 'number') return v
  if (typeof v === 'bigint') return Number(v)
  if (typeof v === 'string') {
    const d = new Date(v)
    if (!Number.isNaN(d.getTime())) return d
  }
  throw new InvalidArgumentError(`${what} must be milliseconds since the epoch or an ISO 8601 date, got ${JSON.stringify(String(v))}`)
}

function pair(v: unknown, what: string): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) throw new InvalidArgumentError(`${what} must be a [from, to] pair`)
  return [num(v[0]) as number, num(v[1]) as number]
}

/** The event kind of `type` (a type name) or `kind` (a kind value 0..65535); exactly one. */
export function kindOf(o: Obj, what: string): EventKind | string {
  if (o.type !== undefined && o.kind !== undefined) throw new InvalidArgumentError(`${what}: give type (a name) or kind (a value), not both`)
  if (typeof o.type === 'string') return o.type
  if (o.type !== undefined) throw new InvalidArgumentError(`${what}: type must be a type name`)
  if (o.kind === undefined) throw new InvalidArgumentError(`${what}: type (a type name) or kind (a kind value) is required`)
  return EventKind.fromValue(num(o.kind) as number)
}

/**
 * The Coordinates requests named, by scope, then entity: clients write to
 * the same entities again and again, and a Coordinate checks its names
 * once and carries the store's interned ids (no name-to-id lookup per
 * append). Bounded by the names' length (entity names may be 1 KiB):
 * emptied when full. Only valid names enter it.
 */
const COORDINATES_MAX_CHARS = 8 * 1024 * 1024
/** What an entry costs beside its names, in the same units (a guess that keeps the count sane). */
const COORDINATE_OVERHEAD = 64
const coordinates = new Map<string, Map<string, Coordinate>>()
let coordinateChars = 0

function coordinate(o: Obj, what: string): Coordinate {
  const { entity, scope } = o
  if (typeof entity !== 'string' || typeof scope !== 'string') throw new InvalidArgumentError(`${what}: entity and scope must be strings`)
  const known = coordinates.get(scope)?.get(entity)
  if (known !== undefined) return known
  const c = new Coordinate(entity, scope) // checks both names (InvalidCoordinateError)
  const cost = entity.length + scope.length + COORDINATE_OVERHEAD
  if (coordinateChars + cost > COORDINATES_MAX_CHARS) {
    coordinates.clear()
    coordinateChars = 0
  }
  let byEntity = coordinates.get(scope)
  if (byEntity === undefined) coordinates.set(scope, (byEntity = new Map()))
  byEntity.set(entity, c)
  coordinateChars += cost
  return c
}

const OPTION_KEYS = ['expectedSequence', 'idempotencyKey', 'correlationId', 'causationId', 'durable', 'occurredAt', 'tags']

function appendOptions(v: unknown, what: string): AppendOptions {
  if (v === undefined) return {}
  const o = object(v, what)
  onlyKeys(o, OPTION_KEYS, what)
  const out: Obj = { ...o }
  if (o.expectedSequence !== undefined) out.expectedSequence = num(o.expectedSequence)
  if (o.occurredAt !== undefined) out.occurredAt = instant(o.occurredAt, `${what}.occurredAt`)
  return out as AppendOptions
}

export interface AppendRequest {
  coord: Coordinate
  kind: EventKind | string
  payload: unknown
  options: AppendOptions
}

/** POST /v1/append: { entity, scope, type | kind, payload, options? }. */
export function appendRequest(body: unknown): AppendRequest {
  const o = object(body, 'the request body')
  onlyKeys(o, ['entity', 'scope', 'type', 'kind', 'payload', 'options'], 'append')
  if (!('payload' in o)) throw new InvalidArgumentError('append: payload is required (null for none)')
  return { coord: coordinate(o, 'append'), kind: kindOf(o, 'append'), payload: o.payload, options: appendOptions(o.options, 'append options') }
}

const ITEM_KEYS = ['entity', 'scope', 'type', 'kind', 'payload', 'expectedSequence', 'idempotencyKey', 'correlationId', 'causation', 'occurredAt', 'tags']

/** A batch item: { entity, scope, type | kind, payload, expectedSequence?, idempotencyKey?, correlationId?, causation?, occurredAt?, tags? }. */
function batchItem(v: unknown, i: number): BatchItem {
  const what = `item ${i}`
  const o = object(v, what)
  onlyKeys(o, ITEM_KEYS, what)
  if (!('payload' in o)) throw new InvalidArgumentError(`${what}: payload is required (null for none)`)
  // The item's own keys but the coordinate's and the kind's (a loop: the
  // object-rest copy was the heaviest part of decoding a batch).
  const item: Obj = {}
  for (const k of Object.keys(o)) if (k !== 'entity' && k !== 'scope' && k !== 'type' && k !== 'kind') item[k] = o[k]
  item.coord = coordinate(o, what)
  item.kind = kindOf(o, what)
  if (o.expectedSequence !== undefined) item.expectedSequence = num(o.expectedSequence)
  if (o.occurredAt !== undefined) item.occurredAt = instant(o.occurredAt, `${what}.occurredAt`)
  if (typeof o.causation === 'object' && o.causation !== null && 'priorItem' in o.causation) {
    item.causation = { ...o.causation, priorItem: num((o.causation as Obj).priorItem) }
  }
  return item as unknown as BatchItem
}

export function batchItems(v: unknown): BatchItem[] {
  if (!Array.isArray(v) || v.length === 0) throw new InvalidArgumentError('items must be a non-empty array')
  return v.map(batchItem)
}

export function durableFlag(v: unknown): { durable?: boolean | 'replicated' } {
  if (v === undefined) return {}
  if (typeof v !== 'boolean' && v !== 'replicated') throw new InvalidArgumentError("durable must be a boolean or 'replicated'")
  return { durable: v }
}

const REGION_KEYS = ['entity', 'scope', 'type', 'kind', 'category', 'tags', 'clock', 'timeMs', 'occurred']

/** A Region from its wire form; an empty object is Region.all(). */
export function region(v: unknown): Region {
  const o = object(v, 'region')
  onlyKeys(o, REGION_KEYS, 'region')
  let r = o.entity !== undefined ? Region.entity(o.entity as string) : Region.all()
  if (o.scope !== undefined) r = r.withScope(o.scope as string)
  if (o.type !== undefined && o.kind !== undefined) throw new InvalidArgumentError('region: give type or kind, not both')
  if (o.type !== undefined) r = r.withFact(o.type as string)
  if (o.kind !== undefined) r = r.withFact(EventKind.fromValue(num(o.kind) as number))
  if (o.category !== undefined) r = r.withFactCategory(num(o.category) as number)
  if (o.tags !== undefined) {
    if (!Array.isArray(o.tags)) throw new InvalidArgumentError('region tags must be an array of strings')
    r = r.withTags(...(o.tags as string[]))
  }
  if (o.clock !== undefined) r = r.withClockRange(...pair(o.clock, 'region clock'))
  if (o.timeMs !== undefined) r = r.withTimeRange(...pair(o.timeMs, 'region timeMs'))
  if (o.occurred !== undefined) {
    const [a, b] = Array.isArray(o.occurred) && o.occurred.length === 2 ? o.occurred : [undefined, undefined]
    r = r.withOccurredRange(instant(a, 'region occurred start'), instant(b, 'region occurred end'))
  }
  return r
}

/** A DCB Query from its wire form: { items: [...] } or { all: true }. */
export function query(v: unknown): Query {
  const o = object(v, 'query')
  onlyKeys(o, ['items', 'all'], 'query')
  if (o.all === true && o.items === undefined) return Query.all()
  if (!Array.isArray(o.items)) throw new InvalidArgumentError('query must be { items: [{ types?, tags? }, ...] } or { all: true }')
  const items = o.items.map((it: unknown): QueryItem => {
    if (typeof it !== 'object' || it === null || !Array.isArray((it as Obj).types)) return it as QueryItem
    // Kind values travel as numbers; type names as strings.
    const types = ((it as Obj).types as unknown[]).map((t) => (typeof t === 'number' || typeof t === 'bigint' ? EventKind.fromValue(num(t) as number) : t))
    return { ...(it as Obj), types } as QueryItem
  })
  return Query.items(...items)
}

/** `{ region }` or `{ query }` of a body: exactly one. */
export function selection(o: Obj, what: string): Region | Query {
  if (o.region !== undefined && o.query !== undefined) throw new InvalidArgumentError(`${what}: give region or query, not both`)
  if (o.query !== undefined) return query(o.query)
  if (o.region !== undefined) return region(o.region)
  throw new InvalidArgumentError(`${what}: region or query is required`)
}

/** A receipt on the wire: bigints stay bigints here; the JSON writer turns them into strings. */
export function receiptWire(r: AppendReceipt): Obj {
  return {
    eventId: r.eventId,
    globalSequence: r.globalSequence,
    clock: r.clock,
    contentHash: r.contentHash,
    prevHash: r.prevHash,
    durable: r.durable,
    deduplicated: r.deduplicated,
    correlationId: r.correlationId,
    causationId: r.causationId,
    timestampUs: r.timestampUs,
  }
}

export function eventWire(e: StoredEvent): Obj {
  const out: Obj = {
    eventId: e.eventId,
    globalSequence: e.globalSequence,
    entity: e.coordinate.entity,
    scope: e.coordinate.scope,
    kind: e.kind.value,
    clock: e.clock,
    timestampUs: e.timestampUs,
    correlationId: e.correlationId,
    causationId: e.causationId,
    contentHash: e.contentHash,
    prevHash: e.prevHash,
    payload: e.payload,
  }
  if (e.type !== undefined) out.type = e.type
  if (e.hasOccurredAt) out.occurredAtUs = e.occurredAtUs
  const tags = e.tags
  if (tags.length > 0) out.tags = tags
  if (e.tombstoned) out.tombstoned = true
  return out
}
