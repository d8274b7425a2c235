import type { Coordinate } from '../coordinate.js'
import { InvalidArgumentError, InvalidTypeNameError } from '../errors.js'
import { EventKind } from '../kind.js'
import { checkOptions, optionKeys } from '../strict.js'
import { checkTypeName } from '../types/registry.js'
import { makeHandle, type Typed } from './handle.js'

/** One transition as written in a machine definition. */
export interface TransitionSpec<St extends string = string> {
  from: St
  to: St
  /**
   * The kind of the event that records the transition, or a type name
   * (store.types.define): a machine is defined without a store, so a name
   * is looked up in the store the machine is used with.
   */
  kind: EventKind | string
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
export interface Transition<M, in out From extends string, out To extends string, out K extends EventKind | string = EventKind | string> {
  readonly name: string
  readonly machine: M
  readonly from: From
  readonly to: To
  /** As the definition gave it: an EventKind, or a type name. */
  readonly kind: K
}

export interface Machine<N extends string, St extends string, I extends St, T extends Record<string, TransitionSpec<St>>> {
  readonly name: N
  readonly states: readonly St[]
  readonly initial: I
  readonly transitions: { readonly [K in keyof T]: Transition<Machine<N, St, I, T>, T[K]['from'], T[K]['to'], T[K]['kind']> }
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

/** @internal One transition as the runtime sees it. */
export interface Step {
  readonly name: string
  readonly from: string
  readonly to: string
  readonly kind: EventKind | string
}

/** @internal Runtime facts about a machine: its name and transitions (resolved per store by resolve.ts). */
export interface MachineInfo {
  readonly id: number
  readonly name: string
  readonly steps: readonly Step[]
}

const infos = new WeakMap<object, MachineInfo>()
let nextId = 1

/** @internal The runtime facts of a machine defineStateMachine made, or undefined for anything else. */
export function machineInfo(m: unknown): MachineInfo | undefined {
  return typeof m === 'object' && m !== null ? infos.get(m) : undefined
}

/** @internal The key of a (from state, event kind value) pair. */
export function stepKey(from: string, kind: number): string {
  return `${from}\u0000${kind}`
}

/** The key of a (from, kind) pair as written: a name and a kind value never share a key. */
function specKey(from: string, kind: EventKind | string): string {
  return typeof kind === 'string' ? `${from}\u0000n:${kind}` : `${from}\u0000k:${kind.value}`
}

/** Checks a transition's type name, saying which machine and transition hold it. */
function namedKind(machine: string, key: string, kind: string): void {
  try {
    checkTypeName(kind)
  } catch (e) {
    if (e instanceof InvalidTypeNameError) throw new InvalidTypeNameError(`machine ${machine}: transition ${key}: ${e.message}`)
    throw e
  }
}

/**
 * Defines a state machine whose transitions are recorded as events. Each
 * (from, kind) pair must be unique, so replaying an entity's events gives
 * exactly one state. A kind may be a type name; a name and a numeric kind
 * that turn out to be the same kind are refused when the machine is used
 * with a store (only then is the name's kind known).
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
  const seen = new Set<string>()
  const steps: Step[] = []
  const machine = { name, states: Object.freeze([...states]), initial } as { -readonly [K in keyof Machine<N, St, I, T>]: Machine<N, St, I, T>[K] }
  const built: Record<string, Transition<unknown, string, string>> = {}
  for (const [key, t] of Object.entries(transitions)) {
    if (typeof t !== 'object' || t === null || !known.has(t.from) || !known.has(t.to)) {
      throw new InvalidArgumentError(`machine ${name}: transition ${key} must go from one of its states to one of its states`)
    }
    checkOptions(`machine ${name}: transition ${key}`, t, TRANSITION_SPEC_KEYS)
    if (typeof t.kind === 'string') namedKind(name, key, t.kind)
    else if (!(t.kind instanceof EventKind) || t.kind.reserved) {
      throw new InvalidArgumentError(`machine ${name}: transition ${key} needs a non-reserved EventKind or a type name`)
    }
    const step = specKey(t.from, t.kind)
    if (seen.has(step)) throw new InvalidArgumentError(`machine ${name}: two transitions leave ${t.from} with kind ${String(t.kind)}`)
    seen.add(step)
    steps.push(Object.freeze({ name: key, from: t.from, to: t.to, kind: t.kind }))
    built[key] = Object.freeze({ name: key, machine, from: t.from, to: t.to, kind: t.kind })
  }
  machine.transitions = Object.freeze(built) as unknown as Machine<N, St, I, T>['transitions']
  machine.start = (coord: Coordinate) => makeHandle(machine as Machine<N, St, I, T>, coord, initial, 0)
  infos.set(machine, { id: nextId++, name, steps: Object.freeze(steps) })
  return Object.freeze(machine) as Machine<N, St, I, T>
}
