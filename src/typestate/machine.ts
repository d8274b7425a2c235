import type { Coordinate } from '../coordinate.js'
import { InvalidArgumentError } from '../errors.js'
import { EventKind } from '../kind.js'
import { checkOptions, optionKeys } from '../strict.js'
import { makeHandle, type Typed } from './handle.js'

/** One transition as written in a machine definition. */
export interface TransitionSpec<St extends string = string> {
  from: St
  to: St
  /** The kind of the event that records the transition. */
  kind: EventKind
}

export const TRANSITION_SPEC_KEYS = optionKeys<TransitionSpec>()(['from', 'to', 'kind'])

/** What defineStateMachine takes. */
export interface MachineDefinition<N extends string, St extends string, I extends St, T> {
  name: N
  states: readonly St[]
  initial: I
  transitions: T
}

export const MACHINE_DEFINITION_KEYS = optionKeys<MachineDefinition<string, string, string, unknown>>()(['name', 'states', 'initial', 'transitions'])

/**
 * A transition of machine `M` from state `From` to `To`. Invariant in
 * `From`, so a transition out of one state never type-checks against a
 * handle in another (or in a union of states).
 */
export interface Transition<M, in out From extends string, out To extends string> {
  readonly name: string
  readonly machine: M
  readonly from: From
  readonly to: To
  readonly kind: EventKind
}

export interface Machine<N extends string, St extends string, I extends St, T extends Record<string, TransitionSpec<St>>> {
  readonly name: N
  readonly states: readonly St[]
  readonly initial: I
  readonly transitions: { readonly [K in keyof T]: Transition<Machine<N, St, I, T>, T[K]['from'], T[K]['to']> }
  /** A handle for a coordinate with no event yet, in the initial state. */
  start(coord: Coordinate): Typed<Machine<N, St, I, T>, I>
}

/** What every machine has, whatever its states and transitions. */
export interface AnyMachine {
  readonly name: string
  readonly states: readonly string[]
  readonly initial: string
}

/** The state names of a machine. */
export type StatesOf<M> = M extends { readonly states: readonly (infer St extends string)[] } ? St : never

/** @internal Runtime facts about a machine: its transitions by (from, kind). */
export interface MachineInfo {
  readonly id: number
  readonly next: ReadonlyMap<string, string>
  readonly kinds: ReadonlySet<number>
}

const infos = new WeakMap<object, MachineInfo>()
let nextId = 1

/** @internal The runtime facts of a machine defineStateMachine made, or undefined for anything else. */
export function machineInfo(m: unknown): MachineInfo | undefined {
  return typeof m === 'object' && m !== null ? infos.get(m) : undefined
}

/** @internal The key of a (from state, event kind) pair. */
export function stepKey(from: string, kind: number): string {
  return `${from}\u0000${kind}`
}

/**
 * Defines a state machine whose transitions are recorded as events. Each
 * (from, kind) pair must be unique, so replaying an entity's events gives
 * exactly one state.
 */
export function defineStateMachine<
  const N extends string,
  const St extends string,
  const I extends NoInfer<St>,
  const T extends Record<string, TransitionSpec<NoInfer<St>>>,
>(def: MachineDefinition<N, St, I, T>): Machine<N, St, I, T> {
  if (typeof def !== 'object' || def === null) throw new InvalidArgumentError('defineStateMachine expects a definition object')
  checkOptions('defineStateMachine', def, MACHINE_DEFINITION_KEYS)
  const { name, states, initial, transitions } = def
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('machine name must be a non-empty string')
  if (!Array.isArray(states) || states.length === 0 || !states.every((s) => typeof s === 'string' && s.length > 0)) {
    throw new InvalidArgumentError(`machine ${name}: states must be a non-empty array of non-empty strings`)
  }
  const known = new Set<string>(states)
  if (known.size !== states.length) throw new InvalidArgumentError(`machine ${name}: states must be distinct`)
  if (!known.has(initial)) throw new InvalidArgumentError(`machine ${name}: initial state ${String(initial)} is not one of its states`)
  if (typeof transitions !== 'object' || transitions === null) throw new InvalidArgumentError(`machine ${name}: transitions must be an object`)
  const next = new Map<string, string>()
  const kinds = new Set<number>()
  const machine = { name, states: Object.freeze([...states]), initial } as { -readonly [K in keyof Machine<N, St, I, T>]: Machine<N, St, I, T>[K] }
  const built: Record<string, Transition<unknown, string, string>> = {}
  for (const [key, t] of Object.entries(transitions)) {
    if (typeof t !== 'object' || t === null || !known.has(t.from) || !known.has(t.to)) {
      throw new InvalidArgumentError(`machine ${name}: transition ${key} must go from one of its states to one of its states`)
    }
    checkOptions(`machine ${name}: transition ${key}`, t, TRANSITION_SPEC_KEYS)
    if (!(t.kind instanceof EventKind) || t.kind.reserved) {
      throw new InvalidArgumentError(`machine ${name}: transition ${key} needs a non-reserved EventKind`)
    }
    const step = stepKey(t.from, t.kind.value)
    if (next.has(step)) throw new InvalidArgumentError(`machine ${name}: two transitions leave ${t.from} with kind ${t.kind}`)
    next.set(step, t.to)
    kinds.add(t.kind.value)
    built[key] = Object.freeze({ name: key, machine, from: t.from, to: t.to, kind: t.kind })
  }
  machine.transitions = Object.freeze(built) as unknown as Machine<N, St, I, T>['transitions']
  machine.start = (coord: Coordinate) => makeHandle(machine as Machine<N, St, I, T>, coord, initial, 0)
  infos.set(machine, { id: nextId++, next, kinds })
  return Object.freeze(machine) as Machine<N, St, I, T>
}
