// The Emmett peer dependency, loaded lazily: requiring causeway/emmett needs no
// Emmett until an adapter is made. The ESM entry hands in Emmett's ESM module
// (useEmmett) so that ESM applications get their own error classes, CommonJS
// ones get Emmett's CommonJS build: Emmett is never bundled or copied.
import type * as Emmett from '@event-driven-io/emmett'

export type EmmettModule = typeof Emmett

let bound: EmmettModule | undefined

/** @internal The ESM entry binds Emmett's ESM module before any adapter is made. */
export function useEmmett(mod: EmmettModule): void {
  bound = mod
}

/** @internal Emmett, as the application loads it. */
export function emmett(): EmmettModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  bound ??= require('@event-driven-io/emmett') as EmmettModule
  return bound
}
