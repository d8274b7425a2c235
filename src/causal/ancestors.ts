import { CorruptionError, InvalidArgumentError } from '../errors.js'

/** The prevHash of an entity's first event: 32 zero bytes. */
export const GENESIS_HASH = '0'.repeat(64)

/** The fields a chain check reads; StoredEvent has them all. */
export interface ChainEvent {
  readonly eventId: string
  readonly globalSequence: bigint
  readonly clock: number
  readonly contentHash: string
  readonly prevHash: string
  readonly payloadBytes: Uint8Array
  /** Compaction emptied the payload (tombstone strategy): the recorded contentHash stands in for it. */
  readonly tombstoned?: boolean
}

/**
 * Where an ancestor walk ended:
 * - `'genesis'`: at the entity's first event (a zero prevHash);
 * - `'limit'`: it returned as many events as it was allowed to;
 * - `'missing-parent'`: the next predecessor is not in the store (e.g. removed
 *   by retention); `missingParentHash` is the content hash the chain expects.
 */
export type AncestorWalk<E> =
  | { events: E[]; stopped: 'genesis' | 'limit' }
  | { events: E[]; stopped: 'missing-parent'; missingParentHash: string }

/** BLAKE3 of the bytes as 64 lowercase hex characters. */
export type Hasher = (bytes: Uint8Array) => string

/** Checks a walk limit: a positive integer, or Infinity for the whole chain. */
export function checkLimit(limit: unknown): number {
  if (limit === Number.POSITIVE_INFINITY) return limit
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new InvalidArgumentError(`limit must be a positive integer or Infinity, got ${String(limit)}`)
  }
  return limit
}

function corrupt(e: ChainEvent, what: string): CorruptionError {
  return new CorruptionError(`event ${e.eventId} (sequence ${e.globalSequence}, clock ${e.clock}) ${what}`, {
    eventId: e.eventId,
    globalSequence: e.globalSequence,
  })
}

/**
 * Walks an entity's hash chain back from the last event of `window`.
 *
 * REQUIRES: `window` holds events of one entity in clock order, ending with
 * the event the walk starts from; it may lack events (a missing parent).
 * Every returned event is re-hashed and its link to its predecessor, when
 * that is in `window`, checked; a failure throws CorruptionError naming it.
 */
export function walkChain<E extends ChainEvent>(window: readonly E[], limit: number, hash: Hasher): AncestorWalk<E> {
  const events: E[] = []
  let i = window.length - 1
  let child = window[i]
  while (child) {
    // A tombstone's payload is gone by design; its recorded hash still links the chain.
    if (!child.tombstoned && hash(child.payloadBytes) !== child.contentHash) {
      throw corrupt(child, 'does not hash to its content hash')
    }
    events.push(child)
    const candidate = window[i - 1]
    const parent = candidate && candidate.clock === child.clock - 1 ? candidate : undefined
    if (parent && parent.contentHash !== child.prevHash) {
      throw corrupt(child, `is not linked to its predecessor ${parent.eventId}: prevHash ${child.prevHash}, predecessor hash ${parent.contentHash}`)
    }
    if (!parent && child.prevHash === GENESIS_HASH) return { events, stopped: 'genesis' }
    if (events.length >= limit) return { events, stopped: 'limit' }
    if (!parent) return { events, stopped: 'missing-parent', missingParentHash: child.prevHash }
    child = parent
    i--
  }
  throw new InvalidArgumentError('walkChain needs a window that holds the starting event')
}
