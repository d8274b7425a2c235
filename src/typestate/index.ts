import './store-methods.js'
export { defineStateMachine, type AnyMachine, type Machine, type StatesOf, type Transition, type TransitionSpec } from './machine.js'
export type { AnyTyped, Typed } from './handle.js'
export type { TransitionOptions, TransitionResult } from './store-methods.js'
