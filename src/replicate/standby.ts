/**
 * standby({ dataDir, servers, stream, leaseTtlMs }): automatic failover. A
 * replica (openReplica) that watches the writer's lease (lease.ts); once the
 * primary's lease has expired (the servers drop it ttl after its last
 * renewal) it takes the lease, keeps it renewed, promotes itself (catch-up,
 * then the fence marker: the old primary is fenced from that moment) and
 * starts publishing its own appends. `store` is then the new primary,
 * writable; appends with durable: 'replicated' wait for JetStream.
 */
import type { NatsConnection } from '@nats-io/transport-node'
import { InvalidArgumentError } from '../errors.js'
import { Store } from '../store.js'
import { checkOptions, optionKeys } from '../strict.js'
import { holderOf, Lease, openLeaseBucket } from './lease.js'
import { loadNats, STALE_SERVER } from './nats.js'
import { promote, type PromoteReport } from './promote.js'
import type { Publisher, ReplicationStatus } from './publisher.js'
import { openReplica, type Replica, type ReplicaStatus } from './replica.js'
import { checkReplicateOptions, intIn, serverList, startPublisher } from './replicate.js'
import { checkStreamName } from './wire.js'

export interface StandbyOptions {
  dataDir: string
  servers: string | readonly string[]
  stream: string
  /** The lease's time to live: the primary is presumed gone this long after its last renewal. @defaultValue 5000 */
  leaseTtlMs?: number
  /** Copies of the lease bucket JetStream keeps when it creates it. @defaultValue 3 */
  replicas?: number
  /** Milliseconds promote may take to catch up with the stream. @defaultValue 60000 */
  promoteTimeoutMs?: number
}

export interface StandbyStatus {
  state: 'following' | 'promoting' | 'primary' | 'stopped'
  /** Who holds the lease, as last seen while following. */
  leaseHolder: string | null
  replica: ReplicaStatus | null
  publisher: ReplicationStatus | null
  promotedAt: number | null
  error: { code: string; message: string } | null
}

const KEYS = optionKeys<StandbyOptions>()(['dataDir', 'servers', 'stream', 'leaseTtlMs', 'replicas', 'promoteTimeoutMs'])

export class Standby {
  private state: StandbyStatus['state'] = 'following'
  private replica: Replica | undefined
  private primary: Store | undefined
  private publisher: Publisher | undefined
  private promotedAt: number | null = null
  private error: { code: string; message: string } | null = null
  private stopping = false
  private wake: (() => void) | undefined
  /** Resolves with promote's report once this standby is the primary and publishes. */
  readonly promoted: Promise<PromoteReport>
  readonly done: Promise<void>
  private settle!: { resolve: (r: PromoteReport) => void; reject: (e: Error) => void }

  /** @internal use standby() */
  constructor(
    private readonly options: Required<Pick<StandbyOptions, 'dataDir' | 'stream' | 'leaseTtlMs' | 'replicas' | 'promoteTimeoutMs'>> & { servers: string[] },
    replica: Replica,
    private readonly nc: NatsConnection,
    private readonly lease: Lease,
  ) {
    this.replica = replica
    this.promoted = new Promise((resolve, reject) => (this.settle = { resolve, reject }))
    this.promoted.catch(() => undefined)
    this.done = this.run()
    this.done.catch(() => undefined)
  }

  /** The store: the replica's (read-only to appends) while following, the new primary's once promoted. */
  get store(): Store {
    return (this.primary ?? this.replica?.store)!
  }

  status(): StandbyStatus {
    return {
      state: this.state,
      leaseHolder: this.lease.state === 'held' ? this.lease.holder : this.lease.other,
      replica: this.replica?.status() ?? null,
      publisher: this.publisher?.status() ?? null,
      promotedAt: this.promotedAt,
      error: this.error,
    }
  }

  async close(): Promise<void> {
    this.stopping = true
    this.wake?.()
    await this.done.catch(() => undefined)
    this.lease.stop()
    await this.publisher?.close()
    this.primary?.close()
    await this.replica?.close()
    await this.nc.close().catch(() => undefined)
    this.state = 'stopped'
  }

  private async run(): Promise<void> {
    const poll = Math.max(50, Math.floor(this.options.leaseTtlMs / 4))
    try {
      while (!this.stopping) {
        if (await this.lease.tryTake().catch(() => false)) break
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, poll)
          this.wake = () => {
            clearTimeout(t)
            resolve()
          }
        })
      }
      if (this.stopping) return
      this.lease.keep()
      this.state = 'promoting'
      await this.replica!.close()
      this.replica = undefined
      const o = this.options
      const report = await promote({ dataDir: o.dataDir, servers: o.servers, timeoutMs: o.promoteTimeoutMs })
      this.primary = Store.open({ dataDir: o.dataDir })
      this.publisher = await startPublisher(this.primary, checkReplicateOptions({ servers: o.servers, stream: o.stream, replicas: o.replicas }))
      // A publisher that stops (fenced by a later promote) gives the writer's lease up with it.
      this.publisher.done.finally(() => this.lease.stop()).catch(() => undefined)
      this.state = 'primary'
      this.promotedAt = Date.now()
      this.settle.resolve(report)
    } catch (e) {
      this.error = { code: String((e as { code?: unknown }).code ?? 'E_NATS'), message: (e as Error).message }
      this.state = 'stopped'
      this.lease.stop()
      this.settle.reject(e as Error)
      throw e
    }
  }
}

/** Starts a standby replica in `dataDir` that promotes itself when the primary's lease expires. */
export async function standby(options: StandbyOptions): Promise<Standby> {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('standby options must be an object')
  checkOptions('standby', options, KEYS)
  if (typeof options.dataDir !== 'string' || options.dataDir === '') throw new InvalidArgumentError('dataDir must be a path')
  const servers = serverList(options.servers)
  const stream = checkStreamName(options.stream)
  const leaseTtlMs = intIn('leaseTtlMs', options.leaseTtlMs, 5000, 300, 3_600_000)
  const replicas = intIn('replicas', options.replicas, 3, 1, 5)
  const promoteTimeoutMs = intIn('promoteTimeoutMs', options.promoteTimeoutMs, 60_000, 100, 3_600_000)
  const replica = await openReplica({ dataDir: options.dataDir, servers, stream })
  const peers = loadNats()
  let nc: NatsConnection | undefined
  try {
    nc = await peers.transport.connect({ servers, name: `causeway-standby-${stream}`, maxReconnectAttempts: -1, reconnectTimeWait: 250, ...STALE_SERVER })
    const lease = new Lease(await openLeaseBucket(nc, stream, leaseTtlMs, replicas), holderOf(options.dataDir), leaseTtlMs)
    return new Standby({ dataDir: options.dataDir, servers, stream, leaseTtlMs, replicas, promoteTimeoutMs }, replica, nc, lease)
  } catch (e) {
    await nc?.close().catch(() => undefined)
    await replica.close()
    throw e
  }
}
