import type { Coordinate } from '../coordinate.js'
import { InvalidArgumentError } from '../errors.js'
import { Store } from '../store.js'
import { projectAll } from './fold.js'
import type { ProjectOptions, Projection, ProjectionResult, StateOf } from './types.js'

/** The results of projectMany, one per projection, in order. */
export type ProjectionResults<T extends readonly Projection<any, any>[]> = { [K in keyof T]: ProjectionResult<StateOf<T[K]>> }

declare module '../store.js' {
  interface Store {
    /**
     * Folds the entity's events into a state. Cached per (entity, name,
     * version, kinds) on this Store: a later call applies only newer events.
     */
    project<S, P = unknown>(entity: string | Coordinate, projection: Projection<S, P>, options?: ProjectOptions): ProjectionResult<S>
    /** Folds several projections in one pass over one read of the entity's events. */
    projectMany<const T extends readonly Projection<any, any>[]>(
      entity: string | Coordinate,
      projections: T,
      options?: ProjectOptions,
    ): ProjectionResults<T>
  }
}

Store.prototype.project = function <S, P>(
  this: Store,
  entity: string | Coordinate,
  projection: Projection<S, P>,
  options?: ProjectOptions,
): ProjectionResult<S> {
  return projectAll(this, entity, [projection as unknown as Projection<unknown, never>], options)[0] as ProjectionResult<S>
}

Store.prototype.projectMany = function <const T extends readonly Projection<any, any>[]>(
  this: Store,
  entity: string | Coordinate,
  projections: T,
  options?: ProjectOptions,
): ProjectionResults<T> {
  if (!Array.isArray(projections) || projections.length === 0) throw new InvalidArgumentError('projectMany needs a non-empty array of projections')
  return projectAll(this, entity, projections, options) as unknown as ProjectionResults<T>
}
