import './decide.js'
export { Query, type QueryItem } from './query.js'
export type { Selection } from './selection.js'
export type { Decision, DecisionStates } from './decide.js'
