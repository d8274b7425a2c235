/**
 * Wire JSON to the client's shapes (bigints back from decimal strings) and
 * the client's arguments to their wire forms.
 */
import { InvalidArgumentError } from '../errors.js'
import type { AppendReceipt, BatchItem, KindLike, StoredEvent } from './types.js'

type Obj = Record<string, unknown>

const big = (v: unknown): bigint => BigInt(v as string)

export function receipt(o: Obj): AppendReceipt {
  return {
    eventId: o.eventId as string,
    globalSequence: big(o.globalSequence),
    clock: o.clock as number,
    contentHash: o.contentHash as string,
    prevHash: o.prevHash as string,
    durable: o.durable as boolean,
    deduplicated: o.deduplicated as boolean,
    correlationId: o.correlationId as string,
    causationId: (o.causationId as string | null) ?? null,
    timestampUs: o.timestampUs as number,
  }
}

export function event<P = unknown>(o: Obj): StoredEvent<P> {
  return {
    eventId: o.eventId as string,
    globalSequence: big(o.globalSequence),
    coordinate: { entity: o.entity as string, scope: o.scope as string },
    kind: o.kind as number,
    type: o.type as string | undefined,
    clock: o.clock as number,
    timestampUs: o.timestampUs as number,
    correlationId: o.correlationId as string,
    causationId: (o.causationId as string | null) ?? null,
    contentHash: o.contentHash as string,
    prevHash: o.prevHash as string,
    payload: o.payload as P,
    tags: (o.tags as string[] | undefined) ?? [],
    hasOccurredAt: o.occurredAtUs !== undefined,
    occurredAtUs: (o.occurredAtUs as number | undefined) ?? 0,
    tombstoned: o.tombstoned === true,
  }
}

/** `{ type }` for a name, `{ kind }` for a value or an EventKind. */
export function kindWire(k: KindLike): Obj {
  if (typeof k === 'string') return { type: k }
  if (typeof k === 'number') return { kind: k }
  if (typeof k === 'object' && k !== null && typeof k.value === 'number') return { kind: k.value }
  throw new InvalidArgumentError('kind must be a type name, a kind value or an EventKind')
}

export function itemWire(it: BatchItem): Obj {
  const { coord, kind, ...rest } = it
  return { entity: coord.entity, scope: coord.scope, ...kindWire(kind), ...rest }
}

/** JSON with bigints as decimal strings and Dates as ISO strings (toJSON). */
export function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))
}
