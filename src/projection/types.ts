import type { StoredEvent } from '../event.js'
import type { EventKind } from '../kind.js'

/**
 * A fold of one entity's events into a state. `apply` must be pure: return a
 * new state and leave the one passed in untouched, because a cached state is
 * handed out and later extended by further applies.
 */
export interface Projection<S, P = unknown> {
  /** Names the cache entry; two projections with one name and version share it. */
  readonly name: string
  /** Bump it when `apply` changes meaning: cached states of other versions are not used. */
  readonly version: number
  /** Only events of these kinds (or type names) are applied. @defaultValue every kind */
  readonly kinds?: readonly (EventKind | string)[]
  init(): S
  apply(state: S, event: StoredEvent<P>): S
}

/**
 * How fresh a result must be:
 * - `'consistent'`: reads every event up to now (only new ones on a cache hit);
 * - `{ maxStaleMs }`: a cached state brought up to date at most this many
 *   milliseconds ago is returned as it is, without reading.
 */
export type Freshness = 'consistent' | { maxStaleMs: number }

/** A point in the past: events with sequence <= `sequence`, or timestamp <= `timestampMs` (inclusive, Unix ms). */
export type AsOf = { sequence: bigint } | { timestampMs: number }

export interface ProjectOptions {
  /** @defaultValue 'consistent' */
  freshness?: Freshness
  /** Fold only the events up to this point; read from scratch, never cached. Cannot be combined with maxStaleMs. */
  asOf?: AsOf
}

export interface ProjectionResult<S> {
  state: S
  /**
   * Global sequence of the last event folded into `state` (null when none):
   * the position to pass to appendIf's `after` for a write that must see no
   * newer event.
   */
  position: bigint | null
  /** How many events this call applied (0 on a stale-allowed cache hit). */
  eventsApplied: number
  /** Whether the call started from a cached state. */
  cacheHit: boolean
}

/** The state type of a projection. */
export type StateOf<T> = T extends Projection<infer S, never> ? S : never
