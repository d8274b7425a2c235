import type { Selection } from '../query/selection.js'
import { Store } from '../store.js'
import { Cursor, type CursorOptions } from './cursor.js'
import { type ReactLoop, type ReactLoopOptions, type Reactor, reactLoop } from './react.js'
import { Subscription } from './subscription.js'

declare module '../store.js' {
  interface Store {
    /** Guaranteed, pull-based delivery of the region's events in global order. */
    cursor<P = unknown>(region: Selection, options?: CursorOptions): Cursor<P>
    /** Lossy, push-based delivery of events appended from now on. */
    subscribe<P = unknown>(region: Selection): Subscription<P>
    /** Runs a reactor over the region's events, appending its reactions. */
    reactLoop<P = unknown>(region: Selection, reactor: Reactor<P>, options?: ReactLoopOptions): ReactLoop
  }
}

Store.prototype.cursor = function <P>(this: Store, region: Selection, options?: CursorOptions): Cursor<P> {
  this.nativeHandle()
  return new Cursor<P>(this, region, options)
}

Store.prototype.subscribe = function <P>(this: Store, region: Selection): Subscription<P> {
  this.nativeHandle()
  return new Subscription<P>(this, region)
}

Store.prototype.reactLoop = function <P>(this: Store, region: Selection, reactor: Reactor<P>, options?: ReactLoopOptions): ReactLoop {
  this.nativeHandle()
  return reactLoop(this, region, reactor, options)
}
