/**
 * The compile-time side of named types: `store.typed<Types>()` views a
 * store through a map from type name to payload type, so appending a wrong
 * payload is a compile error and events read back narrow on `event.type`.
 */
import type { AppendCondition, AppendOptions, BatchItem, BatchOptions, ReactionOptions } from '../append-options.js'
import type { Coordinate } from '../coordinate.js'
import type { StoredEvent } from '../event.js'
import type { QueryOptions, StreamOptions } from '../paging.js'
import type { EventKind } from '../kind.js'
import type { AppendReceipt } from '../receipt.js'
import type { Selection } from '../query/selection.js'
import { Store } from '../store.js'
import type { TypeRegistry } from './registry.js'
import type { Upcaster } from './upcast.js'

/** Type name -> payload type, e.g. `{ 'order.placed': { sku: string; qty: number } }`. */
export type TypeMap = { readonly [name: string]: unknown }

/** An event of the type `N` of the map: `type` is `N`, `payload` is `T[N]`. */
export type EventOf<T extends TypeMap, N extends keyof T & string> = StoredEvent<T[N]> & { readonly type: N }

/** An event of a kind no type names (numeric kinds, the store's system events). */
export type UnnamedEvent = StoredEvent<unknown> & { readonly type: undefined }

/** What a typed read returns: one member per type of the map, narrowed by `event.type`, or an unnamed event. */
export type TypedEvent<T extends TypeMap> = { [N in keyof T & string]: EventOf<T, N> }[keyof T & string] | UnnamedEvent

type ItemFields = Omit<BatchItem, 'kind' | 'payload'>

/** A batch item of a typed store: a type name of the map with its payload, or a numeric kind with any payload. */
export type TypedBatchItem<T extends TypeMap> =
  | { [N in keyof T & string]: ItemFields & { kind: N; payload: T[N] } }[keyof T & string]
  | (ItemFields & { kind: EventKind; payload: unknown })

/** What a typed `query` or `stream` with options returns: its EventPages, whose events narrow on `event.type`. */
export interface TypedPages<T extends TypeMap> extends Iterable<TypedEvent<T>> {
  toArray(): TypedEvent<T>[]
}

type Retyped = 'append' | 'appendReaction' | 'appendBatch' | 'appendIf' | 'get' | 'stream' | 'query' | 'byScope' | 'byFact' | 'typed' | 'types'

/**
 * The registry of a typed store: `upcast` takes a name of the map. A step's
 * input is an older payload shape the map does not hold: name it with `From`.
 */
export interface TypedRegistry<T extends TypeMap> extends Omit<TypeRegistry, 'upcast'> {
  upcast<N extends keyof T & string, From = any, To = unknown>(name: N, from: number, to: number, fn: Upcaster<From, To>): void
}

/**
 * A Store seen through a type map (the same object: `store.typed<T>()`
 * returns the store itself). Names outside the map, and numeric kinds,
 * still work at run time; only the compile-time view changes.
 */
export interface TypedStore<T extends TypeMap> extends Omit<Store, Retyped> {
  readonly types: TypedRegistry<T>
  append<N extends keyof T & string>(coord: Coordinate, type: N, payload: T[N], options?: AppendOptions): AppendReceipt
  append(coord: Coordinate, kind: EventKind, payload: unknown, options?: AppendOptions): AppendReceipt
  appendReaction<N extends keyof T & string>(
    coord: Coordinate,
    type: N,
    payload: T[N],
    correlationId: string,
    causationId: string,
    options?: ReactionOptions,
  ): AppendReceipt
  appendReaction(coord: Coordinate, kind: EventKind, payload: unknown, correlationId: string, causationId: string, options?: ReactionOptions): AppendReceipt
  appendBatch(items: readonly TypedBatchItem<T>[], options?: BatchOptions): AppendReceipt[]
  appendIf(items: readonly TypedBatchItem<T>[], condition: AppendCondition, options?: BatchOptions): AppendReceipt[]
  get(eventId: string): TypedEvent<T> | undefined
  stream(entity: string | Coordinate, options?: undefined): TypedEvent<T>[]
  stream(entity: string | Coordinate, options: StreamOptions): TypedPages<T>
  query(region: Selection, options?: undefined): TypedEvent<T>[]
  query(region: Selection, options: QueryOptions): TypedPages<T>
  byScope(scope: string): TypedEvent<T>[]
  byFact<N extends keyof T & string>(type: N): EventOf<T, N>[]
  byFact(kind: EventKind): StoredEvent<unknown>[]
}

declare module '../store.js' {
  interface Store {
    /**
     * This store seen through a map from type name to payload type: a typed
     * `append`, and reads whose `payload` narrows on `event.type`. Returns
     * the store itself; the map is checked by the compiler only (schemas
     * check payloads at run time).
     */
    typed<T extends TypeMap>(): TypedStore<T>
  }
}

Store.prototype.typed = function <T extends TypeMap>(this: Store): TypedStore<T> {
  return this as unknown as TypedStore<T>
}
