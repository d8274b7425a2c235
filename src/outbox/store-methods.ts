import { StoreClosedError } from '../errors.js'
import { Store } from '../store.js'
import { Outbox } from './outbox.js'

declare module '../store.js' {
  interface Store {
    /** A new, empty outbox on this store: stage events, then flush them as one atomic batch. */
    outbox(): Outbox
  }
}

Store.prototype.outbox = function (this: Store): Outbox {
  if (this.closed) throw new StoreClosedError('the store is closed')
  return new Outbox(this)
}
