/**
 * Replication inside Store.open: `Store.open({ dataDir, replicate: { servers,
 * stream, ... } })` starts a publisher in this process (`store.replication`
 * has its status, close() stops it), and a store opened on a read replica's
 * directory (replication/role.json says replica) refuses appends with
 * ReplicaReadOnlyError. The NATS packages load only when an open asks for
 * replication (loadNats' require): the core entry does not import them.
 */
import * as fs from 'node:fs'
import { ReplicationError } from '../errors.js'
import { registerOpenHook } from '../open-hooks.js'
import type { StoreOptions } from '../options.js'
import { replicationLinkOf, setReplicationLink } from '../replication-link.js'
import { Store } from '../store.js'
import type { Publisher } from './publisher.js'
import type { ReplicationStatus, StoreReplication } from './api-types.js'
import { loadNats } from './nats.js'
import { openReplica, type Replica, type ReplicaOptions } from './replica.js'

export type { StoreReplication } from './api-types.js'
import { checkPublisherRole, checkReplicateOptions, type CheckedReplicateOptions, startPublisher } from './replicate.js'
import { readRole } from './role.js'

class InProcess implements StoreReplication {
  private publisher: Publisher | undefined
  private stopped = false
  private failure: { code: string; message: string } | null = null
  readonly ready: Promise<void>
  readonly closed: Promise<void>
  private closing: (() => void) | undefined

  constructor(
    private readonly store: Store,
    private readonly options: CheckedReplicateOptions,
  ) {
    this.closed = new Promise((resolve) => (this.closing = resolve))
    const started = startPublisher(store, options)
    this.ready = started.then(
      async (p) => {
        this.publisher = p
        if (this.stopped) await this.finish()
      },
      (e: Error) => {
        this.failure = { code: String((e as { code?: unknown }).code ?? 'E_NATS'), message: e.message }
        this.stopped = true
        if (replicationLinkOf(store) === this.link) setReplicationLink(store, undefined)
        this.closing?.()
        throw e
      },
    )
    this.ready.catch(() => undefined)
    // Appends with durable: 'replicated' made while connecting wait for the publisher (which then replaces this link).
    setReplicationLink(store, this.link)
  }

  private readonly link = {
    waitFor: (sequence: bigint): Promise<void> => this.ready.then(() => this.publisher!.waitFor(sequence)),
    refusal: (): Error | undefined => (this.stopped ? new ReplicationError(this.failure?.message ?? 'replication stopped') : undefined),
  }

  get state(): StoreReplication['state'] {
    if (this.stopped || this.publisher?.status().running === false) return 'stopped'
    return this.publisher ? 'running' : 'connecting'
  }

  get stream(): string {
    return this.options.stream
  }

  get error(): { code: string; message: string } | null {
    return this.failure ?? this.publisher?.status().error ?? null
  }

  status(): ReplicationStatus | undefined {
    return this.publisher?.status()
  }

  /** At the start of the store's close(): stops the publisher (its connection closes in the background). */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    if (this.publisher) void this.finish()
  }

  private async finish(): Promise<void> {
    await this.publisher!.close()
    this.closing?.()
  }
}

const running = new WeakMap<Store, InProcess>()

Object.defineProperty(Store.prototype, 'replication', {
  configurable: true,
  get(this: Store): StoreReplication | undefined {
    return running.get(this)
  },
})

Store.openReplica = (options: ReplicaOptions): Promise<Replica> => openReplica(options)

interface Checked {
  replicaOf: string | undefined
  replicate: CheckedReplicateOptions | undefined
}

registerOpenHook({
  check(o: StoreOptions): Checked | undefined {
    const role = typeof o.dataDir === 'string' && fs.existsSync(o.dataDir) ? readRole(o.dataDir) : undefined
    if (o.replicate === undefined) return role?.role === 'replica' ? { replicaOf: role.stream, replicate: undefined } : undefined
    const options = checkReplicateOptions(o.replicate)
    if (typeof o.dataDir === 'string' && fs.existsSync(o.dataDir)) checkPublisherRole(o.dataDir, options.stream)
    // The NATS packages now, so that a missing one refuses the open (MissingDependencyError) before anything is opened.
    loadNats()
    return { replicaOf: undefined, replicate: options }
  },
  start(store, checked) {
    const c = checked as Checked | undefined
    if (!c) return
    store.replicaOf = c.replicaOf
    if (!c.replicate) return
    const r = new InProcess(store, c.replicate)
    running.set(store, r)
    store.onBeforeClose(() => r.stop())
  },
})
