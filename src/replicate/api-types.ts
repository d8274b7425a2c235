/**
 * The replication types the core entry names (Store.open's `replicate`
 * option, `store.replication`, `Store.openReplica`), kept free of any NATS
 * import so that the core package's declarations need no NATS package:
 * those are optional peers, loaded only when replication runs.
 */
import type { Store } from '../store.js'

/** The failover lease's state (leaseTtlMs). */
export type LeaseState = 'held' | 'waiting' | 'lost' | 'stopped'

export interface ReplicateOptions {
  /** NATS server URLs ('nats://127.0.0.1:4222'), one or several of the cluster. */
  servers: string | readonly string[]
  /** The JetStream stream's name: 1..64 of A-Z a-z 0-9 _ -. */
  stream: string
  /** Copies JetStream keeps of each message when it creates the stream. @defaultValue 3 */
  replicas?: number
  /** Events published before their acknowledgements are awaited. @defaultValue 512 */
  window?: number
  /**
   * Publish only events the store has synced to disk, so the stream never
   * holds an event the primary could lose in a crash. @defaultValue true
   */
  onlyDurable?: boolean
  /** Milliseconds to wait for an acknowledgement. @defaultValue 5000 */
  ackTimeoutMs?: number
  /** NATS connection name (shown by the server). */
  name?: string
  /**
   * Holds the writer's lease for automatic failover (standby()): taken at
   * start and renewed every third of this; a standby promotes itself once it
   * has expired. Needs @nats-io/kv. @defaultValue none (no lease)
   */
  leaseTtlMs?: number
}

export interface ReplicationStatus {
  stream: string
  /** Global sequence of the next event to publish: all below it are in the stream (acknowledged). */
  acknowledged: bigint
  /** The store's next sequence, as last seen. */
  storeNext: bigint
  /** Events committed in the store and not yet acknowledged by JetStream. */
  lag: number
  /** Events published by this publisher (duplicates JetStream recognised not counted). */
  published: number
  /** Re-publishes JetStream recognised by their Nats-Msg-Id. */
  duplicates: number
  /** Time of the last acknowledgement (ms since the epoch), or null. */
  lastAckAt: number | null
  running: boolean
  fenced: boolean
  /** The last error (a transient one is retried), or null. */
  error: { code: string; message: string } | null
  /** The failover lease (leaseTtlMs), or null without one. */
  lease: LeaseState | null
}

export interface ReplicaOptions {
  dataDir: string
  servers: string | readonly string[]
  stream: string
  /** Permission bits of the files the replica store creates. @defaultValue 0o600 */
  fileMode?: number
}

export interface ReplicaStatus {
  stream: string
  /** The replica store's next global sequence (the events applied). */
  applied: bigint
  /** Stream messages not yet applied, as the consumer last reported. */
  lag: number
  running: boolean
  error: { code: string; message: string } | null
}

/** A running read replica (openReplica): its store serves every read API. */
export interface ReplicaHandle {
  readonly store: Store
  readonly stream: string
  /** Settles once the replica stopped following. */
  readonly done: Promise<void>
  status(): ReplicaStatus
  /** Resolves once the replica holds every event below `sequence`. */
  waitFor(sequence: bigint): Promise<void>
  /** Resolves once the replica holds every message the stream has now; returns the stream's last sequence. */
  catchUp(): Promise<bigint>
  /** Stops following; closes the connection and the store. */
  close(): Promise<void>
}

/** What Store.open's `replicate` option runs: `store.replication`. */
export interface StoreReplication {
  /** 'connecting' until the publisher runs, 'stopped' once it failed to start, was fenced or the store closed. */
  readonly state: 'connecting' | 'running' | 'stopped'
  readonly stream: string
  /** The publisher's status once it runs (acknowledged, lag, fenced, ...). */
  status(): ReplicationStatus | undefined
  /** Why it could not start or stopped, or null. */
  readonly error: { code: string; message: string } | null
  /** Resolves once the publisher runs; rejects with the reason it could not start. */
  readonly ready: Promise<void>
  /** Resolves once it stopped after close() (the NATS connection closed). */
  readonly closed: Promise<void>
}

declare module '../store.js' {
  interface Store {
    /** Store.open's `replicate` option: the in-process publisher, or undefined without one. */
    readonly replication: StoreReplication | undefined
  }
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Store {
    /** causeway/replicate's openReplica: a read replica of a JetStream stream in `dataDir`. */
    function openReplica(options: ReplicaOptions): Promise<ReplicaHandle>
  }
}
