import type { Coordinate } from './coordinate.js'
import type { EventKind } from './kind.js'
import type { Query } from './query/query.js'
import type { Region } from './region.js'
import { omitKeys, optionKeys } from './strict.js'

export interface AppendOptions {
  /** The entity's current clock (0 when it has no event); otherwise SequenceMismatchError and nothing is written. */
  expectedSequence?: number
  /** A key already used returns the first append's receipt and writes nothing, also after a reopen. */
  idempotencyKey?: string
  /** Groups events of one flow; defaults to the event's own id. */
  correlationId?: string
  /** The event that caused this one. */
  causationId?: string
  /**
   * true: return only once the event is synced to disk. 'replicated': return
   * a Promise of the receipt that resolves once the event is synced and
   * acknowledged by JetStream (a publisher must run: NotReplicatingError
   * otherwise). @defaultValue false
   */
  durable?: boolean | 'replicated'
  /** When it happened in the domain (a Date or ms since the epoch), kept beside the record time. */
  occurredAt?: Date | number
  /** Strings the event is indexed by for DCB queries ('course:c1'): at most 32, each 1..128 bytes, no control characters. */
  tags?: readonly string[]
}

/** The keys append() accepts; anything else is refused with InvalidArgumentError. */
export const APPEND_OPTION_KEYS = optionKeys<AppendOptions>()(['expectedSequence', 'idempotencyKey', 'correlationId', 'causationId', 'durable', 'occurredAt', 'tags'])

/** appendReaction's options: those of append but the ids it takes as arguments. */
export type ReactionOptions = Omit<AppendOptions, 'correlationId' | 'causationId'>
/** AppendOptions whose append returns its receipt at once (durable: a boolean, not 'replicated'). */
export type ImmediateAppendOptions = Immediate<AppendOptions>
export const REACTION_OPTION_KEYS = omitKeys(APPEND_OPTION_KEYS, 'correlationId', 'causationId')

export interface BatchItem {
  coord: Coordinate
  /** A kind, or a type name defined with store.types.define. */
  kind: EventKind | string
  payload: unknown
  expectedSequence?: number
  idempotencyKey?: string
  correlationId?: string
  /** The causing event: an event id, or an earlier item of this batch. */
  causation?: string | { priorItem: number } | { eventId: string }
  /** As in AppendOptions. */
  occurredAt?: Date | number
  /** As in AppendOptions. */
  tags?: readonly string[]
}

export const BATCH_ITEM_KEYS = optionKeys<BatchItem>()(['coord', 'kind', 'payload', 'expectedSequence', 'idempotencyKey', 'correlationId', 'causation', 'occurredAt', 'tags'])

export interface AppendCondition {
  /** The consistency boundary: events that would change the decision. */
  failIfEventsMatch: Region | Query
  /** The position the decision was made at; null when it saw no event. */
  after: bigint | null
}

export const APPEND_CONDITION_KEYS = optionKeys<AppendCondition>()(['failIfEventsMatch', 'after'])

export interface BatchOptions {
  /** Return only once the whole batch is synced; 'replicated': a Promise, as in AppendOptions. @defaultValue false */
  durable?: boolean | 'replicated'
}

/** Options that make an append return a Promise of its receipt(s). */
export type Replicated<O> = O & { durable: 'replicated' }
/** Options that make an append return its receipt(s) at once. */
export type Immediate<O> = O & { durable?: boolean }

export const BATCH_OPTION_KEYS = optionKeys<BatchOptions>()(['durable'])
