import './store-methods.js'
export { Cursor, type CursorOptions } from './cursor.js'
export { Subscription } from './subscription.js'
export type { Reaction, Reactor, ReactLoop, ReactLoopOptions } from './react.js'
