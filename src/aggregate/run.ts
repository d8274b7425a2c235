import type { NativeFilter } from '../native/binding.js'
import { toNativeFilter } from '../query/selection.js'
import { Store } from '../store.js'
import { byWindow, cellsOf, windowOf } from './cells.js'
import { type AggregateLive, type AggregateLiveOptions, aggregateLive } from './live.js'
import { type AggregatePlan, type AggregateSpec, type AggregateWindow, type Measure, planAggregate } from './spec.js'

declare module '../store.js' {
  interface Store {
    /**
     * Count, sum, avg, min and max over time windows (tumbling or sliding),
     * optionally grouped, computed in the addon over the index and the
     * stored MessagePack payloads: no event object is built. Windows that
     * hold no event are left out; the rest come sorted by start, then group.
     */
    aggregate<M extends Record<string, Measure>>(spec: AggregateSpec<M>): AggregateWindow<M>[]
    /** The same over events appended from now on (or options.fromSequence): each window once it closes. */
    aggregateLive<M extends Record<string, Measure>>(
      spec: AggregateSpec<M>,
      onWindow: (w: AggregateWindow<M>) => void,
      options?: AggregateLiveOptions,
    ): AggregateLive
  }
}

/** @internal The spec's filter (every event without a query). */
export function filterOf(store: Store, spec: AggregateSpec<Record<string, Measure>>): NativeFilter {
  return spec.query === undefined ? {} : toNativeFilter(spec.query, store.types, 'aggregate')
}

/** @internal The cells of one native call. */
export function runPlan(store: Store, plan: AggregatePlan, filter: NativeFilter) {
  return cellsOf(store, plan, store.nativeHandle().aggregate(filter, plan.native))
}

Store.prototype.aggregate = function <M extends Record<string, Measure>>(this: Store, spec: AggregateSpec<M>): AggregateWindow<M>[] {
  const plan = planAggregate(spec)
  const cells = runPlan(this, plan, filterOf(this, spec))
  if (plan.byType) cells.sort(byWindow)
  return cells.map((c) => windowOf<M>(plan, c))
}

Store.prototype.aggregateLive = function <M extends Record<string, Measure>>(
  this: Store,
  spec: AggregateSpec<M>,
  onWindow: (w: AggregateWindow<M>) => void,
  options?: AggregateLiveOptions,
): AggregateLive {
  return aggregateLive(this, spec, onWindow, options)
}
