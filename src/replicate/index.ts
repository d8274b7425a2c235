/** causeway/replicate: scale-out on NATS JetStream (README, "Scale-out"). */
export { replicate, type ReplicateOptions } from './replicate.js'
export type { Publisher, ReplicationStatus } from './publisher.js'
export { openReplica, type Replica, type ReplicaOptions, type ReplicaStatus } from './replica.js'
export { promote, type PromoteOptions, type PromoteReport } from './promote.js'
export { standby, type Standby, type StandbyOptions, type StandbyStatus } from './standby.js'
export type { LeaseState } from './lease.js'
export type { StoreReplication } from './open-hook.js'
export { FencedError, NotReplicatingError, ReplicaReadOnlyError, ReplicationError } from '../errors.js'
