import { Coordinate } from '../coordinate.js'
import { InvalidArgumentError } from '../errors.js'
import type { StoredEvent } from '../event.js'
import type { Projection } from '../projection/types.js'
import '../projection/store-methods.js'
import type { AppendReceipt } from '../receipt.js'
import { APPEND_OPTION_KEYS, Store, type AppendOptions, type ImmediateAppendOptions } from '../store.js'
import { checkOptions, omitKeys } from '../strict.js'
import { type AnyTyped, isGenuineHandle, makeHandle, type Typed } from './handle.js'
import { type AnyMachine, machineInfo, stepKey, type StatesOf, type Transition } from './machine.js'
import { resolveMachine, type Resolved } from './resolve.js'

/** Append options of a transition; expectedSequence comes from the handle. */
export type TransitionOptions = Omit<ImmediateAppendOptions, 'expectedSequence'>
export const TRANSITION_OPTION_KEYS = omitKeys(APPEND_OPTION_KEYS, 'expectedSequence')

export interface TransitionResult<M, To extends string> {
  /** The coordinate, now in state `To`. The handle passed in is stale from here on. */
  handle: Typed<M, To>
  receipt: AppendReceipt
}

declare module '../store.js' {
  interface Store {
    /**
     * Appends the event of `transition`, expecting the entity clock the
     * handle was taken at. A transition out of another state than the
     * handle's does not compile, and throws InvalidArgumentError at runtime.
     */
    applyTransition<M, From extends string, To extends string>(
      handle: Typed<M, From>,
      transition: Transition<NoInfer<M>, NoInfer<From>, To>,
      payload: unknown,
      options?: TransitionOptions,
    ): TransitionResult<M, To>
    /** A handle in the coordinate's current state, found by replaying its entity's events (cached as a projection). */
    loadTyped<M extends AnyMachine>(machine: M, coord: Coordinate): AnyTyped<M, StatesOf<M>>
  }
}

interface Replayed {
  state: string
  clock: number
}

// The projection's name is per machine; its cache is per store, and so is the resolution it folds with.
function replay(machineName: string, initial: string, id: number, info: Resolved): Projection<Replayed> {
  return {
    name: `typestate:${machineName}#${id}`,
    version: 0,
    init: () => ({ state: initial, clock: 0 }),
    apply: (s: Replayed, e: StoredEvent) => {
      const k = e.kind.value
      if (!info.kinds.has(k)) return { state: s.state, clock: e.clock }
      const to = info.next.get(stepKey(s.state, k))
      if (to === undefined) {
        throw new InvalidArgumentError(`machine ${machineName}: event ${e.eventId} of kind ${e.kind} is no transition out of ${s.state}`)
      }
      return { state: to, clock: e.clock }
    },
  }
}

Store.prototype.loadTyped = function (this: Store, machine: AnyMachine, coord: Coordinate) {
  const info = machineInfo(machine)
  if (!info) throw new InvalidArgumentError('loadTyped expects a machine made by defineStateMachine')
  if (!(coord instanceof Coordinate)) throw new InvalidArgumentError('coord must be a Coordinate')
  const { state } = this.project(coord, replay(machine.name, machine.initial, info.id, resolveMachine(this, info)))
  return makeHandle(machine, coord, state.state, state.clock) as never
}

Store.prototype.applyTransition = function <M, From extends string, To extends string>(
  this: Store,
  handle: Typed<M, From>,
  transition: Transition<M, From, To>,
  payload: unknown,
  options?: TransitionOptions,
): TransitionResult<M, To> {
  if (!isGenuineHandle(handle)) throw new InvalidArgumentError('applyTransition expects a handle made by the library')
  const info = machineInfo(handle.machine)
  const t = transition as unknown as Transition<unknown, string, string> | undefined
  if (!info || typeof t !== 'object' || t === null || t.machine !== handle.machine) {
    throw new InvalidArgumentError('the transition does not belong to the handle\'s machine')
  }
  if (t.from !== handle.state) {
    throw new InvalidArgumentError(`transition ${t.name} leaves ${t.from}, but ${handle.coord} is in ${handle.state}`)
  }
  checkOptions('applyTransition', options, TRANSITION_OPTION_KEYS)
  // Every name of the machine must be defined, and no two transitions out of one state the same kind, before anything is written.
  resolveMachine(this, info)
  // A name appends as a name: the store validates the payload with the type's schema.
  const receipt = this.append(handle.coord, t.kind, payload, { ...options, expectedSequence: handle.clock })
  return { handle: makeHandle(handle.machine, handle.coord, transition.to, receipt.clock), receipt }
}
