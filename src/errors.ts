/**
 * Every error causeway throws is a CausewayError with a stable string `code`.
 * Check the code (isCausewayError(e, 'E_STORE_LOCKED')) rather than
 * `instanceof`, which fails across duplicate copies of the package.
 */
export type ErrorCode =
  | 'E_CAUSEWAY'
  | 'E_INVALID_ARGUMENT'
  | 'E_INVALID_COORDINATE'
  | 'E_INVALID_KIND'
  | 'E_INVALID_PAYLOAD'
  | 'E_PAYLOAD_TOO_LARGE'
  | 'E_SEQUENCE_MISMATCH'
  | 'E_STORE_LOCKED'
  | 'E_STORE_CLOSED'
  | 'E_CORRUPTION'
  | 'E_IO'
  | 'E_STORE_POISONED'
  | 'E_NOT_FOUND'
  | 'E_APPEND_CONDITION'
  | 'E_CLOCK_OVERFLOW'
  | 'E_NAME_TABLE_FULL'
  | 'E_OUT_OF_MEMORY'
  | 'E_SUBSCRIPTION_LAGGED'
  | 'E_GATE_DENIED'
  | 'E_OUTBOX_CLOSED'
  | 'E_ABORTED'
  | 'E_WRITER_UNAVAILABLE'
  | 'E_UNKNOWN_TYPE'
  | 'E_TYPE_CONFLICT'
  | 'E_INVALID_TYPE_NAME'
  | 'E_INVALID_SCHEMA'
  | 'E_INVALID_TAG'
  | 'E_INVALID_QUERY'
  | 'E_UNKNOWN_MEASURE'
  | 'E_INVALID_FIELD_PATH'
  | 'E_INVALID_WINDOW'
  | 'E_UNKNOWN_GROUP_BY'
  | 'E_UPCAST'
  | 'E_UNAUTHORIZED'
  | 'E_FORBIDDEN'
  | 'E_MISSING_DEPENDENCY'
  | 'E_RATE_LIMITED'
  | 'E_SERVICE_UNAVAILABLE'
  | 'E_VIEW_APPLY'
  | 'E_VIEW_VERSION'
  | 'E_FENCED'
  | 'E_REPLICATION'
  | 'E_NOT_REPLICATING'
  | 'E_REPLICA_READ_ONLY'

export class CausewayError extends Error {
  readonly code: ErrorCode = 'E_CAUSEWAY'
  /** The OS error number, when a system call failed. */
  readonly errno?: number

  constructor(message: string, details?: Record<string, unknown>) {
    super(message)
    if (details) Object.assign(this, details)
    Object.defineProperty(this, 'name', { value: new.target.name, enumerable: false, configurable: true })
  }
}

/** An argument of the wrong type or out of range; the store is unchanged. */
export class InvalidArgumentError extends CausewayError {
  override readonly code: ErrorCode = 'E_INVALID_ARGUMENT'
}
/** An entity or scope that is empty, too long, or holds control characters. */
export class InvalidCoordinateError extends CausewayError {
  override readonly code = 'E_INVALID_COORDINATE' as const
}
/** An event kind outside category 1..15 (0 and 0xD are reserved) or type 0..4095. */
export class InvalidKindError extends CausewayError {
  override readonly code = 'E_INVALID_KIND' as const
}
/**
 * A payload msgpack cannot carry faithfully (functions, symbols, BigInt,
 * NaN, cycles...), or one its type's schema refuses: then `type`, `path`
 * (a JSON Pointer, '' for the root) and `reason` say where and why.
 */
export class InvalidPayloadError extends CausewayError {
  override readonly code = 'E_INVALID_PAYLOAD' as const
}
/** A payload over maxPayloadBytes, or an event or batch larger than a segment. */
export class PayloadTooLargeError extends CausewayError {
  override readonly code = 'E_PAYLOAD_TOO_LARGE' as const
}
/** expectedSequence did not match the entity's current clock. */
export class SequenceMismatchError extends CausewayError {
  override readonly code = 'E_SEQUENCE_MISMATCH' as const
  declare readonly entity: string
  declare readonly expected: number
  declare readonly actual: number
}
/** Another Store (this process or another) holds the directory for writing. */
export class StoreLockedError extends CausewayError {
  override readonly code = 'E_STORE_LOCKED' as const
}
/** The store was closed. */
export class StoreClosedError extends CausewayError {
  override readonly code = 'E_STORE_CLOSED' as const
}
/** Bytes on disk fail a check where they must hold; the message names segment and offset. */
export class CorruptionError extends CausewayError {
  override readonly code = 'E_CORRUPTION' as const
}
/** A system call failed. */
export class IoError extends CausewayError {
  override readonly code: ErrorCode = 'E_IO'
}
/** An fsync failed earlier: every write is refused until the store is reopened. */
export class StorePoisonedError extends IoError {
  override readonly code = 'E_STORE_POISONED' as const
}
/** A lookup by name or id found nothing where something was required. */
export class NotFoundError extends CausewayError {
  override readonly code = 'E_NOT_FOUND' as const
}

/** appendIf found an event matching its condition after the given position; nothing was written. */
export class AppendConditionError extends CausewayError {
  override readonly code = 'E_APPEND_CONDITION' as const
  /** Global sequence of the first event that matched the condition. */
  declare readonly conflictSequence: bigint
}

/** An entity's clock is at its maximum (2^32 - 1 events): it takes no further event. */
export class ClockOverflowError extends CausewayError {
  override readonly code = 'E_CLOCK_OVERFLOW' as const
}

/**
 * The store names as many entities (or scopes) as it can hold (2^28), or its
 * type registry has no free kind left in its range; a new name is refused.
 */
export class NameTableFullError extends CausewayError {
  override readonly code = 'E_NAME_TABLE_FULL' as const
}

/** Memory ran out for a read's results. (An append that runs out of memory poisons the store: E_STORE_POISONED.) */
export class OutOfMemoryError extends CausewayError {
  override readonly code = 'E_OUT_OF_MEMORY' as const
}

/** A subscriber fell more than the ring's capacity behind; `missed` events were not delivered to it. */
export class SubscriptionLaggedError extends CausewayError {
  override readonly code = 'E_SUBSCRIPTION_LAGGED' as const
  declare readonly missed: number
}

/**
 * A long operation (compactAsync, snapshotAsync, verifyChainAsync) stopped
 * by its AbortSignal before its commit point: the store is as it was. Its
 * `name` is 'AbortError', like the DOM's, so `err.name === 'AbortError'`
 * checks work; `cause` is the signal's reason.
 */
export class OperationAbortedError extends CausewayError {
  override readonly code = 'E_ABORTED' as const

  constructor(message: string, details?: Record<string, unknown>) {
    super(message, details)
    Object.defineProperty(this, 'name', { value: 'AbortError', enumerable: false, configurable: true })
  }
}

/**
 * A client process (one that opened a store another process writes) found
 * no writer to carry its write, or the writer did not answer within
 * `writerTimeoutMs`. The write may or may not have been applied: retry it
 * with the same idempotency key and it is applied exactly once. Retryable:
 * after a writer dies, another process takes the role within about a second.
 */
export class WriterUnavailableError extends CausewayError {
  override readonly code = 'E_WRITER_UNAVAILABLE' as const
}

/** A type name no type registry entry has (define it first with store.types.define). */
export class UnknownTypeError extends CausewayError {
  override readonly code = 'E_UNKNOWN_TYPE' as const
  declare readonly type: string
}

/**
 * A type defined again with another definition (another schema fingerprint
 * or another explicit kind), or an explicit kind another name already has.
 */
export class TypeConflictError extends CausewayError {
  override readonly code = 'E_TYPE_CONFLICT' as const
  declare readonly type: string
}

/** A type name that is empty, over 128 characters, or holds a character outside [A-Za-z0-9._:-]. */
export class InvalidTypeNameError extends CausewayError {
  override readonly code = 'E_INVALID_TYPE_NAME' as const
}

/**
 * A schema causeway cannot use: neither a Standard Schema nor a JSON Schema
 * object, a JSON Schema ajv cannot compile (or ajv not installed), or a
 * validator that answered asynchronously (append is synchronous).
 */
export class InvalidSchemaError extends CausewayError {
  override readonly code = 'E_INVALID_SCHEMA' as const
}

/** A tag that is empty, over 128 bytes of UTF-8, holds a control character, or one too many (32 per event). */
export class InvalidTagError extends CausewayError {
  override readonly code = 'E_INVALID_TAG' as const
}

/** An aggregate measure that is not count, sum, avg, min or max, or a measure spec of the wrong shape. */
export class UnknownMeasureError extends CausewayError {
  override readonly code = 'E_UNKNOWN_MEASURE' as const
}

/** A payload field path that is empty, has an empty key ('a..b'), or is over 32 keys deep. */
export class InvalidFieldPathError extends CausewayError {
  override readonly code = 'E_INVALID_FIELD_PATH' as const
}

/** An aggregate window of size 0 or less, a step of 0 or less or over the size, or an unreadable duration. */
export class InvalidWindowError extends CausewayError {
  override readonly code = 'E_INVALID_WINDOW' as const
}

/** An aggregate groupBy other than 'type', 'scope', 'entityPrefix' or { tag: prefix }. */
export class UnknownGroupByError extends CausewayError {
  override readonly code = 'E_UNKNOWN_GROUP_BY' as const
}

/** A DCB query that cannot match as written: no items, an item with neither types nor tags, an unknown type. */
export class InvalidQueryError extends CausewayError {
  override readonly code = 'E_INVALID_QUERY' as const
}

/**
 * An event whose stored version cannot be brought to its type's current
 * version: a missing upcast step, a stored version newer than the type's, or
 * an upcaster that threw (`cause`). Names the type, the versions and the event.
 */
export class UpcastError extends CausewayError {
  override readonly code = 'E_UPCAST' as const
  declare readonly type: string
  /** The stored version (a missing step, a newer writer), or the version of the step that threw. */
  declare readonly fromVersion: number
  /** The version this process reads the type at. */
  declare readonly toVersion: number
  /** The event read, or undefined for checkUpcasts(). */
  declare readonly eventId: string | undefined
}

/** The service (causeway/server): a request without a valid bearer token (HTTP 401). */
export class UnauthorizedError extends CausewayError {
  override readonly code = 'E_UNAUTHORIZED' as const
}

/** The service: a token without the role a route needs, or a scope outside the token's scopes (HTTP 403). */
export class ForbiddenError extends CausewayError {
  override readonly code = 'E_FORBIDDEN' as const
}

/**
 * An optional peer dependency a feature needs is not installed (serve()
 * without fastify); `dependency` names the package to install.
 */
export class MissingDependencyError extends CausewayError {
  override readonly code = 'E_MISSING_DEPENDENCY' as const
  declare readonly dependency: string
}

/**
 * The service: a token (or, without one, an address) made more requests
 * than its rate limit allows (HTTP 429); `retryAfterMs` says when the
 * window resets.
 */
export class RateLimitedError extends CausewayError {
  override readonly code = 'E_RATE_LIMITED' as const
  declare readonly retryAfterMs: number
}

/**
 * causeway/client could not reach the service (connection refused or
 * reset, a timeout, a response that is not the service's) after its
 * retries. A write that failed this way may or may not have happened:
 * retry it only with an idempotency key.
 */
export class ServiceUnavailableError extends CausewayError {
  override readonly code = 'E_SERVICE_UNAVAILABLE' as const
}

/**
 * Replication (causeway/replicate): this store's publisher is no longer the
 * stream's writer. The JetStream stream holds events this store did not
 * publish (a promoted replica writes there now), so its publish failed the
 * expected-sequence check and nothing more of it is replicated.
 */
export class FencedError extends CausewayError {
  override readonly code = 'E_FENCED' as const
}

/**
 * Replication (causeway/replicate): the stream and the store disagree in a
 * way that is not fencing (a message that is not the store's frame, a
 * stream shorter than the position it acknowledged, a replica whose local
 * events differ from the stream's). Nothing is written past the point.
 */
export class ReplicationError extends CausewayError {
  override readonly code = 'E_REPLICATION' as const
}

/**
 * An append asked for `durable: 'replicated'` (wait for JetStream's
 * acknowledgement) on a store with no running publisher (Store.open's
 * `replicate` option): there is nothing to wait for. The event is not
 * appended.
 */
export class NotReplicatingError extends CausewayError {
  override readonly code = 'E_NOT_REPLICATING' as const
}

/**
 * An append to a read replica (its `replication/role.json` says replica):
 * only the stream writes there. Append to the primary, or promote the
 * replica first.
 */
export class ReplicaReadOnlyError extends CausewayError {
  override readonly code = 'E_REPLICA_READ_ONLY' as const
}

/** The classes the native addon instantiates, by name. */
export const errorClasses = {
  CausewayError,
  InvalidArgumentError,
  InvalidCoordinateError,
  InvalidKindError,
  InvalidPayloadError,
  PayloadTooLargeError,
  SequenceMismatchError,
  StoreLockedError,
  StoreClosedError,
  CorruptionError,
  IoError,
  StorePoisonedError,
  NotFoundError,
  AppendConditionError,
  ClockOverflowError,
  NameTableFullError,
  OutOfMemoryError,
  OperationAbortedError,
  WriterUnavailableError,
}

/** True when `e` is a causeway error, of the given code when one is passed. */
export function isCausewayError(e: unknown, code?: ErrorCode): e is CausewayError {
  if (typeof e !== 'object' || e === null) return false
  const c = (e as { code?: unknown }).code
  if (typeof c !== 'string' || !c.startsWith('E_')) return false
  if (!(e instanceof Error)) return false
  return code === undefined || c === code
}
