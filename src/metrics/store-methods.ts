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

Store.prototype.metrics = function (this: Store): StoreMetrics {
  drain(this)
  return this.meter.snapshot()
}

