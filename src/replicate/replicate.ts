/**
 * replicate(store, { servers, stream }): starts a publisher (publisher.ts)
 * for an open store, after connecting to NATS and making sure the stream
 * exists with its replicas.
 */
import { InvalidArgumentError, ReplicationError } from '../errors.js'
import type { Store } from '../store.js'
import { checkOptions, optionKeys } from '../strict.js'
import { loadNats, STALE_SERVER } from './nats.js'
import { Publisher } from './publisher.js'
import { readRole, type RoleRecord } from './role.js'
import { StateFile } from './state.js'
import { holderOf, Lease, openLeaseBucket } from './lease.js'
import { ensureStream } from './stream.js'
import { checkStreamName } from './wire.js'
import type { ReplicateOptions } from './api-types.js'

export type { ReplicateOptions } from './api-types.js'

const KEYS = optionKeys<ReplicateOptions>()(['servers', 'stream', 'replicas', 'window', 'onlyDurable', 'ackTimeoutMs', 'name', 'leaseTtlMs'])

/** An integer option within min..max (dflt when undefined); InvalidArgumentError otherwise. */
export function intIn(name: string, v: unknown, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new InvalidArgumentError(`${name} must be an integer ${min}..${max}`)
  return v
}

export function serverList(servers: unknown): string[] {
  const list = typeof servers === 'string' ? servers.split(',') : servers
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string' && s.trim() !== '')) {
    throw new InvalidArgumentError('servers must be a NATS URL or a non-empty list of them')
  }
  return list.map((s: string) => s.trim())
}

export interface CheckedReplicateOptions {
  servers: string[]
  stream: string
  replicas: number
  window: number
  timeout: number
  onlyDurable: boolean
  name: string | undefined
  leaseTtlMs: number | undefined
}

/** Validates replicate's options (nothing is opened or connected). */
export function checkReplicateOptions(options: ReplicateOptions): CheckedReplicateOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('replicate options must be an object')
  checkOptions('replicate', options, KEYS)
  const servers = serverList(options.servers)
  const stream = checkStreamName(options.stream)
  const replicas = intIn('replicas', options.replicas, 3, 1, 5)
  const window = intIn('window', options.window, 512, 1, 65536)
  const timeout = intIn('ackTimeoutMs', options.ackTimeoutMs, 5000, 100, 600_000)
  if (options.onlyDurable !== undefined && typeof options.onlyDurable !== 'boolean') throw new InvalidArgumentError('onlyDurable must be a boolean')
  if (options.name !== undefined && typeof options.name !== 'string') throw new InvalidArgumentError('name must be a string')
  const leaseTtlMs = options.leaseTtlMs === undefined ? undefined : intIn('leaseTtlMs', options.leaseTtlMs, 0, 300, 3_600_000)
  return { servers, stream, replicas, window, timeout, onlyDurable: options.onlyDurable ?? true, name: options.name, leaseTtlMs }
}

/** Refuses to publish from a replica, or to another stream than the store's. */
export function checkPublisherRole(dataDir: string, stream: string): RoleRecord | undefined {
  const role = readRole(dataDir)
  if (role?.role === 'replica') throw new ReplicationError(`${dataDir} is a replica of stream ${role.stream}: promote it before it publishes`)
  if (role && role.stream !== stream) throw new ReplicationError(`${dataDir} belongs to stream ${role.stream}, not ${stream}`)
  return role
}

/** Starts replicating `store` (writable or read-only, e.g. a sidecar) to the stream; close() stops it. */
export async function replicate(store: Store, options: ReplicateOptions): Promise<Publisher> {
  return startPublisher(store, checkReplicateOptions(options))
}

/** @internal replicate() with checked options. */
export async function startPublisher(store: Store, o: CheckedReplicateOptions): Promise<Publisher> {
  store.nativeHandle()
  const role = checkPublisherRole(store.dataDir, o.stream)
  const peers = loadNats()
  const nc = await peers.transport.connect({ servers: o.servers, name: o.name ?? `causeway-replicate-${o.stream}`, maxReconnectAttempts: -1, reconnectTimeWait: 250, ...STALE_SERVER })
  try {
    const jsm = await peers.jetstream.jetstreamManager(nc, { timeout: o.timeout })
    await ensureStream(peers, jsm, o.stream, o.replicas)
    const js = peers.jetstream.jetstream(nc, { timeout: o.timeout })
    const state = new StateFile(store.dataDir, o.stream, store.fileMode)
    let lease: Lease | undefined
    if (o.leaseTtlMs !== undefined) {
      lease = new Lease(await openLeaseBucket(nc, o.stream, o.leaseTtlMs, o.replicas), holderOf(store.dataDir), o.leaseTtlMs)
      await lease.tryTake()
      lease.keep()
    }
    if (store.closed) {
      lease?.stop()
      throw new ReplicationError('the store closed before replication started')
    }
    return new Publisher(peers, nc, js, jsm, store, state, o.stream, o.window, o.onlyDurable, role?.writer, lease)
  } catch (e) {
    await nc.close().catch(() => undefined)
    throw e
  }
}
