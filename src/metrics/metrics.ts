import { Latency, type LatencySummary } from './latency.js'
import type { MaintenanceCounters } from '../ops/maintenance.js'
import type { ProjectionSnapshotCounters } from '../projection/persist.js'

/** Counts since the store was opened in this process. */
export interface MetricCounters {
  /** Single appends (append, appendSystem, appendReaction) that wrote or deduplicated an event. */
  appends: number
  /** appendBatch / appendIf calls that went through. */
  batches: number
  /** Events written by this process (singles and batch items, deduplicated ones excluded). */
  events: number
  /** Encoded payload bytes of those events. */
  bytes: number
  /** Appends answered from the idempotency table instead of written. */
  deduplicated: number
  /** Appends refused because the entity was not at the expected clock. */
  casFailures: number
  /** Conditional appends (appendIf) refused because an event matched the condition. */
  conditionConflicts: number
  /** fdatasync/fsync calls the store made (background, group commit and sync()). */
  syncs: number
  /** Syncs that failed (the store is poisoned after the first). */
  syncFailures: number
  /** Segments sealed and replaced by a new active segment. */
  rolls: number
  /** Times a subscriber fell behind the broadcast ring and lost events. */
  subscribersLagged: number
  /** Events subscribers lost that way. */
  lagEvents: number
}

/** What `store.metrics()` returns. Latencies are in microseconds. */
export interface StoreMetrics {
  counters: MetricCounters
  latency: {
    /** Non-durable appends and batches, one call in `sampleEvery` timed. */
    append: LatencySummary
    /** Durable appends and batches, every one timed (the wait for the sync included). */
    durableAppend: LatencySummary
    /** Each fdatasync/fsync the store made, as timed by the engine. */
    sync: LatencySummary
    /** Each segment roll (seal, preallocate the next, swap), as timed by the engine. */
    roll: LatencySummary
  }
  /** One non-durable append call in this many is timed. */
  sampleEvery: number
  /** Background maintenance (Store.open's `maintenance`), when configured in a process that may write. */
  maintenance?: MaintenanceCounters
  /** Persisted projection states (Store.open's `projectionSnapshots`), when enabled. */
  projectionSnapshots?: ProjectionSnapshotCounters
  /** Present while causeway/replicate publishes this store or applies a stream to it. */
  replication?: ReplicationMetrics
}

/** Replication of this store (causeway/replicate): a publisher's or a replica's. */
export interface ReplicationMetrics {
  role: 'publisher' | 'replica'
  stream: string
  /** Events committed here and not yet acknowledged by JetStream (publisher), or stream messages not yet applied (replica). */
  lagEvents: number
  /** Publisher: global sequence below which JetStream acknowledged everything. Replica: events applied. */
  position: number
  /** Publisher: events published and acknowledged by this process. */
  published?: number
  /** Publisher: re-publishes JetStream recognised by Nats-Msg-Id. */
  duplicates?: number
  /** Publisher: time of the last acknowledgement (ms since the epoch), or null. */
  lastAckAt?: number | null
  fenced?: boolean
  error: { code: string; message: string } | null
}

/**
 * The store's metrics in this process. Counters are exact; non-durable
 * append latency is sampled (timing every 2 µs append would cost more than a
 * tenth of its speed), durable appends are all timed.
 * @internal store.metrics() is the public face
 */
export class Metrics {
  readonly sampleEvery = 64
  /** Counts down to the next timed append. */
  countdown = 64
  /** The engine's sync and roll records drained so far. */
  syncCursor = 0
  rollCursor = 0
  readonly counters: MetricCounters = {
    appends: 0,
    batches: 0,
    events: 0,
    bytes: 0,
    deduplicated: 0,
    casFailures: 0,
    conditionConflicts: 0,
    syncs: 0,
    syncFailures: 0,
    rolls: 0,
    subscribersLagged: 0,
    lagEvents: 0,
  }
  readonly append = new Latency()
  readonly durableAppend = new Latency()
  readonly sync = new Latency()
  readonly roll = new Latency()
  /** Set by causeway/replicate while it publishes this store or applies a stream to it. */
  replication: (() => ReplicationMetrics) | undefined

  /** True when this call should be timed (always for durable ones). */
  shouldTime(durable: boolean): boolean {
    if (durable) return true
    if (--this.countdown > 0) return false
    this.countdown = this.sampleEvery
    return true
  }

  recordCall(durable: boolean, micros: number): void {
    ;(durable ? this.durableAppend : this.append).record(micros)
  }

  /** One event handed to the engine: written, or answered from the idempotency table. */
  wrote(deduplicated: boolean, bytes: number): void {
    const c = this.counters
    if (deduplicated) c.deduplicated++
    else {
      c.events++
      c.bytes += bytes
    }
  }

  /** Folds the engine's counters and new sync/roll durations in; returns the durations for the channels. */
  absorb(n: { syncs: number; syncErrors: number; rolls: number; syncMicros: Uint32Array; rollMicros: Uint32Array }): void {
    this.counters.syncs = n.syncs
    this.counters.syncFailures = n.syncErrors
    this.counters.rolls = n.rolls
    for (const v of n.syncMicros) this.sync.record(v)
    for (const v of n.rollMicros) this.roll.record(v)
  }

  lagged(missed: number): void {
    this.counters.subscribersLagged++
    this.counters.lagEvents += missed
  }

  snapshot(): StoreMetrics {
    return {
      counters: { ...this.counters },
      latency: {
        append: this.append.summary(),
        durableAppend: this.durableAppend.summary(),
        sync: this.sync.summary(),
        roll: this.roll.summary(),
      },
      sampleEvery: this.sampleEvery,
      ...(this.replication ? { replication: this.replication() } : {}),
    }
  }
}

/** Counts what one append call did, from its receipts or its error. @internal */
export function countRefusal(m: Metrics, err: unknown): void {
  const code = (err as { code?: unknown } | null)?.code
  if (code === 'E_SEQUENCE_MISMATCH') m.counters.casFailures++
  else if (code === 'E_APPEND_CONDITION') m.counters.conditionConflicts++
}
