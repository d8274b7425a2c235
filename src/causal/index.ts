import './store-methods.js'
export { GENESIS_HASH, type AncestorWalk, type ChainEvent } from './ancestors.js'
export type { BrokenLink, ChainEventRef, ChainReport, MissingParent } from './verify.js'
