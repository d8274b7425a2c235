/** causeway/replicate: scale-out on NATS JetStream (README, "Scale-out"). */
export { replicate, type ReplicateOptions } from './replicate.js'
export type { Publisher, ReplicationStatus } from './publisher.js'
export { openReplica, type Replica, type ReplicaOptions, type ReplicaStatus } from './replica.js'
export { promote, type PromoteOptions, type PromoteReport } from './promote.js'
export { FencedError, ReplicationError } from '../errors.js'
