import './store-methods.js'
export { Outbox, type StageOptions } from './outbox.js'
export { OutboxClosedError } from './outbox-closed-error.js'
