/**
 * Loads the NATS client (optional peers @nats-io/transport-node and
 * @nats-io/jetstream) when replication starts, so `causeway` and
 * `causeway/replicate` load without them: a missing one is a
 * MissingDependencyError naming the package.
 */
import type * as JetStreamModule from '@nats-io/jetstream'
import type * as KvModule from '@nats-io/kv'
import type * as TransportModule from '@nats-io/transport-node'
import { requireOptionalPeer } from '../optional-peer.js'

export interface NatsPeers {
  transport: typeof TransportModule
  jetstream: typeof JetStreamModule
}

let loaded: NatsPeers | undefined

/** The two NATS packages; `load` is replaceable by tests. */
export function loadNats(load: (id: string) => unknown = require): NatsPeers {
  if (loaded && load === require) return loaded
  const peer = (id: string) => requireOptionalPeer(id, `causeway replication needs ${id}, an optional peer dependency: npm install ${id}`, load)
  const peers = { transport: peer('@nats-io/transport-node'), jetstream: peer('@nats-io/jetstream') } as NatsPeers
  if (load === require) loaded = peers
  return peers
}

let kvLoaded: typeof KvModule | undefined

/** @nats-io/kv (an optional peer too), for the failover lease. */
export function loadKv(): typeof KvModule {
  return (kvLoaded ??= requireOptionalPeer('@nats-io/kv', 'causeway automatic failover needs @nats-io/kv, an optional peer dependency: npm install @nats-io/kv', require) as typeof KvModule)
}

/**
 * A server that keeps its connection open but answers nothing (a frozen or
 * partitioned node) is given up after about 6 s, not the client's default
 * of 2 pings 2 minutes apart: the client then reconnects to another node of
 * the cluster, which has elected new stream leaders meanwhile.
 */
export const STALE_SERVER = { pingInterval: 2000, maxPingOut: 3 } as const
