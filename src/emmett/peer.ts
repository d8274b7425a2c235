// The Emmett peer dependency, loaded lazily: requiring causeway/emmett needs no
// Emmett until an adapter is made, and then a missing Emmett is a
// MissingDependencyError naming what to install. The ESM entry hands in
// Emmett's ESM module (useEmmett) so that ESM applications get their own error
// classes, CommonJS ones Emmett's CommonJS build: Emmett is never bundled.
import type * as Emmett from '@event-driven-io/emmett'
import { requireOptionalPeer } from '../optional-peer.js'

export type EmmettModule = typeof Emmett

let bound: EmmettModule | undefined

/** @internal The ESM entry binds Emmett's ESM module before any adapter is made. */
export function useEmmett(mod: EmmettModule): void {
  bound = mod
}

/** @internal Emmett as the application loads it; `load` is require, replaceable for a test. */
export function emmett(load: (id: string) => unknown = require): EmmettModule {
  if (bound) return bound
  bound = requireOptionalPeer('@event-driven-io/emmett', 'causeway/emmett needs Emmett, an optional peer dependency: npm install @event-driven-io/emmett@^0.42.0', load) as EmmettModule
  return bound
}
