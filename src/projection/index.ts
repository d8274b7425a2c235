import './store-methods.js'
export type { AsOf, Freshness, ProjectOptions, Projection, ProjectionResult, StateOf } from './types.js'
export type { ProjectionResults } from './store-methods.js'
export { MAX_CACHE_ENTRIES } from './cache.js'
