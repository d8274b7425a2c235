import { addMetrics } from '../metrics/store-methods.js'
import { registerOpenHook } from '../open-hooks.js'
import type { StoreOptions } from '../options.js'
import type { Store } from '../store.js'
import { onCacheClear } from './cache.js'
import { ProjectionSnapshots } from './persist.js'
import { type NormalizedSnapshotOptions, checkSnapshotOptions } from './snapshot-options.js'

const layers = new WeakMap<Store, ProjectionSnapshots>()

/** The store's projection snapshots, when its open asked for them. @internal */
export function snapshotsOf(store: Store): ProjectionSnapshots | undefined {
  return layers.get(store)
}

registerOpenHook({
  check: (o: StoreOptions) => checkSnapshotOptions(o.projectionSnapshots),
  start(store, checked) {
    if (!checked) return
    const layer = new ProjectionSnapshots(store, checked as NormalizedSnapshotOptions)
    layers.set(store, layer)
    // Written while the store can still verify nothing (the states carry their own event ids).
    store.onBeforeClose(() => layer.flush())
  },
})

onCacheClear((store) => layers.get(store)?.forget())

addMetrics((store, out) => {
  const l = layers.get(store)
  if (l) out.projectionSnapshots = { ...l.counters }
})
