import { Store } from '../store.js'
import { drain } from './instrument.js'
import type { StoreMetrics } from './metrics.js'

declare module '../store.js' {
  interface Store {
    /**
     * Counters and latency percentiles (microseconds) of this store in this
     * process since it was opened: appends, batches, bytes, deduplicated
     * appends, CAS failures, condition conflicts, syncs, sync failures,
     * segment rolls, lagged subscribers; append (sampled), durable append,
     * sync and roll latencies.
     */
    metrics(): StoreMetrics
  }
}

const extraMetrics: Array<(store: Store, out: StoreMetrics) => void> = []

/** Adds a feature's figures to metrics() (maintenance, projection snapshots). @internal */
export function addMetrics(f: (store: Store, out: StoreMetrics) => void): void {
  extraMetrics.push(f)
}

Store.prototype.metrics = function (this: Store): StoreMetrics {
  drain(this)
  const out = this.meter.snapshot()
  for (const f of extraMetrics) f(this, out)
  return out
}

