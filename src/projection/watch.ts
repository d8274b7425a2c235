import type { Coordinate } from '../coordinate.js'
import { Notifier } from '../delivery/notifier.js'
import { Store } from '../store.js'
import type { Projection, ProjectionResult } from './types.js'

declare module '../store.js' {
  interface Store {
    /**
     * The projection's state now, then again each time events of the entity
     * arrive (from this thread or any other sharing the store). Built on the
     * projection cache, so each update applies only the new events. Ends when
     * the loop breaks or the store closes.
     */
    watchProjection<S, P = unknown>(entity: string | Coordinate, projection: Projection<S, P>): AsyncGenerator<ProjectionResult<S>, void, undefined>
  }
}

Store.prototype.watchProjection = async function* <S, P>(
  this: Store,
  entity: string | Coordinate,
  projection: Projection<S, P>,
): AsyncGenerator<ProjectionResult<S>, void, undefined> {
  const notifier = Notifier.of(this)
  let last: bigint | null | undefined
  while (!this.closed) {
    const seen = this.nativeHandle().nextSequence()
    const r = this.project(entity, projection)
    // Only a change of the entity's folded position is an update worth yielding.
    if (r.position !== last) {
      last = r.position
      yield r
    }
    if (this.closed) return
    await notifier.wait(seen)
  }
}
