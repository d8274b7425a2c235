/**
 * The seam between the store and replication (causeway/replicate), with no
 * NATS in it: a running publisher registers itself as the store's link, and
 * an append with `durable: 'replicated'` waits on it (README, "Scale-out").
 */
import { NotReplicatingError, ReplicaReadOnlyError } from './errors.js'
import type { AppendReceipt } from './receipt.js'

/** What an append waits on: resolves once every event below `sequence` is acknowledged by JetStream. */
export interface ReplicationLink {
  waitFor(sequence: bigint): Promise<void>
  /** Why an append would never be acknowledged (the publisher was fenced or stopped), checked before it is written. */
  refusal(): Error | undefined
}

const links = new WeakMap<object, ReplicationLink>()

/** @internal Registers (or, with undefined, removes) the store's publisher. */
export function setReplicationLink(store: object, link: ReplicationLink | undefined): void {
  if (link) links.set(store, link)
  else links.delete(store)
}

/** @internal The store's publisher, if one runs. */
export function replicationLinkOf(store: object): ReplicationLink | undefined {
  return links.get(store)
}

/**
 * @internal `durable: 'replicated'`: refuses (writing nothing) when no
 * publisher runs, else appends with `write` and resolves with its receipt
 * (or receipts) once JetStream acknowledged the last of them.
 */
export function replicated<R extends AppendReceipt | AppendReceipt[]>(store: object, write: () => R): Promise<R> {
  const link = links.get(store)
  if (!link) return Promise.reject(new NotReplicatingError("durable: 'replicated' needs a running publisher: open the store with the replicate option, or replicate(store, ...)"))
  const refused = link.refusal()
  if (refused) return Promise.reject(refused)
  let r: R
  try {
    r = write()
  } catch (e) {
    return Promise.reject(e)
  }
  const last: AppendReceipt = Array.isArray(r) ? r[r.length - 1]! : (r as AppendReceipt)
  return link.waitFor(last.globalSequence + 1n).then(() => r)
}

/** @internal A read replica's store refuses appends (its stream is its only writer). */
export function refuseReplicaWrite(stream: string): never {
  throw new ReplicaReadOnlyError(`this store is a read replica of stream ${stream}: append to the primary, or promote the replica`)
}
