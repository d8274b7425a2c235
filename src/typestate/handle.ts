import { Coordinate } from '../coordinate.js'
import { InvalidCoordinateError } from '../errors.js'

/**
 * A coordinate known to be in state `S` of machine `M`, as of entity clock
 * `clock`. Only the library makes handles (machine.start, store.loadTyped,
 * store.applyTransition); the next transition appends with
 * `expectedSequence: clock`, so a change made since the handle was taken is
 * refused with SequenceMismatchError.
 */
export interface Typed<M, S extends string> {
  readonly machine: M
  readonly coord: Coordinate
  readonly state: S
  readonly clock: number
}

/** A handle in any one of the machine's states; check `handle.state` to narrow it. */
export type AnyTyped<M, St extends string> = St extends string ? Typed<M, St> : never

const genuine = new WeakSet<object>()

/** @internal */
export function makeHandle<M, S extends string>(machine: M, coord: Coordinate, state: S, clock: number): Typed<M, S> {
  if (!(coord instanceof Coordinate)) throw new InvalidCoordinateError('coord must be a Coordinate')
  const h = Object.freeze({ machine, coord, state, clock })
  genuine.add(h)
  return h
}

/** @internal Whether the library made this handle. */
export function isGenuineHandle(h: unknown): h is Typed<unknown, string> {
  return typeof h === 'object' && h !== null && genuine.has(h)
}
