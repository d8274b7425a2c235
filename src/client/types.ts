/**
 * The client's shapes: receipts and events as the library's AppendReceipt
 * and StoredEvent read (bigints for global sequences, numbers for clocks
 * and microsecond times), with JSON payloads; selections in their wire
 * forms (PROTOCOL.md): `{ region: {...} }` or `{ query: {...} }`.
 */

export interface ClientOptions {
  /** The bearer token (Authorization header; the WebSocket subprotocol in browsers). */
  token?: string
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch
  /** Retries of an idempotent request (GETs, appends with an idempotency key). @defaultValue 3 */
  retries?: number
  /** Per-request timeout in milliseconds. @defaultValue 10000 */
  timeoutMs?: number
  /** First retry delay in milliseconds, doubled each time (capped at 2 s). @defaultValue 100 */
  backoffMs?: number
}

export interface CoordinateLike {
  entity: string
  scope: string
}

/** A type name, a kind value, or an EventKind-like `{ value }`. */
export type KindLike = string | number | { value: number }

export interface AppendOptions {
  expectedSequence?: number
  idempotencyKey?: string
  correlationId?: string
  causationId?: string
  durable?: boolean
  occurredAt?: Date | number | string
  tags?: string[]
}

export interface BatchItem {
  coord: CoordinateLike
  kind: KindLike
  payload: unknown
  expectedSequence?: number
  idempotencyKey?: string
  correlationId?: string
  causation?: unknown
  occurredAt?: Date | number | string
  tags?: string[]
}

export type Selection = { region: Record<string, unknown> } | { query: Record<string, unknown> }

export interface AppendCondition {
  failIfEventsMatch: Selection
  after: bigint | null
}

export interface AppendReceipt {
  eventId: string
  globalSequence: bigint
  clock: number
  contentHash: string
  prevHash: string
  durable: boolean
  deduplicated: boolean
  correlationId: string
  causationId: string | null
  timestampUs: number
}

export interface StoredEvent<P = unknown> {
  eventId: string
  globalSequence: bigint
  coordinate: CoordinateLike
  kind: number
  type: string | undefined
  clock: number
  timestampUs: number
  correlationId: string
  causationId: string | null
  contentHash: string
  prevHash: string
  payload: P
  tags: string[]
  hasOccurredAt: boolean
  occurredAtUs: number
  tombstoned: boolean
}

export interface StreamOptions {
  fromClock?: number
  toClock?: number
  /** Events per page (1..MAX_LIMIT of the server). */
  limit?: number
  reverse?: boolean
}

export interface QueryOptions {
  limit?: number
  after?: bigint
  reverse?: boolean
}

export interface LiveOptions {
  /** Cursor: deliver events after this global sequence (absent: from the first). */
  after?: bigint
  /** Subscription: called when events were lost to lag; without it the iterator throws SubscriptionLaggedError. */
  onLag?: (missed: number) => void
}
