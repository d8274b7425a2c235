/**
 * The service's appends with options read from a request: `durable` may be
 * 'replicated' (the route then awaits JetStream's acknowledgement) or a
 * boolean, so each call picks the store's overload by the value.
 */
import type { AppendReceipt } from '../receipt.js'
import type { AppendCondition, AppendOptions, BatchItem, BatchOptions, Immediate, Replicated, Store } from '../store.js'
import type { AppendRequest } from './wire.js'

const isReplicated = <O extends { durable?: boolean | 'replicated' }>(o: O): o is Replicated<O> => o.durable === 'replicated'

export function appendAny(store: Store, a: AppendRequest): AppendReceipt | Promise<AppendReceipt> {
  const o: AppendOptions = a.options
  return isReplicated(o) ? store.append(a.coord, a.kind, a.payload, o) : store.append(a.coord, a.kind, a.payload, o as Immediate<AppendOptions>)
}

export function appendBatchAny(store: Store, items: BatchItem[], o: BatchOptions): AppendReceipt[] | Promise<AppendReceipt[]> {
  return isReplicated(o) ? store.appendBatch(items, o) : store.appendBatch(items, o as Immediate<BatchOptions>)
}

export function appendIfAny(store: Store, items: BatchItem[], condition: AppendCondition, o: BatchOptions): AppendReceipt[] | Promise<AppendReceipt[]> {
  return isReplicated(o) ? store.appendIf(items, condition, o) : store.appendIf(items, condition, o as Immediate<BatchOptions>)
}
