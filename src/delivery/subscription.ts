import { EventEmitter } from 'node:events'
import { InvalidArgumentError, StoreClosedError, SubscriptionLaggedError } from '../errors.js'
import type { StoredEvent } from '../event.js'
import type { NativeFilter } from '../native/binding.js'
import { isSelection, type Selection } from '../query/selection.js'
import type { Store } from '../store.js'
import { Notifier } from './notifier.js'

/**
 * Push-based, lossy delivery of events appended after it was created, fed by
 * the addon's broadcast ring. The writer never waits for a subscriber: one
 * that falls more than `subscriberCapacity` events behind loses the oldest
 * and is told so ('lagged' event, or SubscriptionLaggedError from the
 * iterator). For guaranteed delivery use a cursor.
 *
 * Events: 'event' (StoredEvent), 'lagged' ({ missed }), 'error', 'close'.
 */
export class Subscription<P = unknown> extends EventEmitter implements AsyncIterable<StoredEvent<P>> {
  private readonly store: Store
  private readonly filter: NativeFilter
  private position: number
  private closed = false
  private pumping = false
  private wakeOnClose: (() => void) | undefined
  /** Events this subscriber missed because it lagged. */
  missed = 0

  /** @internal use store.subscribe() */
  constructor(store: Store, region: Selection) {
    super()
    if (!isSelection(region)) throw new InvalidArgumentError('subscribe expects a Region or a Query')
    this.store = store
    this.filter = region.toFilter(store.types)
    this.position = store.nativeHandle().subscriptionHead()
    this.on('newListener', (name: string) => {
      if (name === 'event') queueMicrotask(() => void this.pump())
    })
  }

  /**
   * Up to `max` new matching events. Returns what it could; `lagged` says how
   * many events were lost to the ring before this read.
   */
  poll(max = 1024): { events: StoredEvent<P>[]; lagged: number } {
    if (this.closed) throw new StoreClosedError('the subscription is closed')
    const r = this.store.nativeHandle().subscriptionPoll(this.filter, this.position, max)
    this.position = r.position
    this.missed += r.lagged
    if (r.lagged > 0) this.store.meter.lagged(r.lagged)
    return { events: this.store.eventsFrom<P>(r.records), lagged: r.lagged }
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.wakeOnClose?.()
    this.emit('close')
  }

  get isClosed(): boolean {
    return this.closed || this.store.closed
  }

  private async pump(): Promise<void> {
    if (this.pumping) return
    this.pumping = true
    const notifier = Notifier.of(this.store)
    try {
      while (!this.isClosed && this.listenerCount('event') > 0) {
        const seen = this.store.nativeHandle().nextSequence()
        const { events, lagged } = this.poll()
        if (lagged > 0) this.emit('lagged', { missed: lagged })
        for (const e of events) this.emit('event', e)
        if (events.length === 0 && lagged === 0) await this.park(notifier, seen)
      }
    } catch (e) {
      if (!this.isClosed) this.emit('error', e)
    } finally {
      this.pumping = false
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StoredEvent<P>> {
    const notifier = Notifier.of(this.store)
    while (!this.isClosed) {
      const seen = this.store.nativeHandle().nextSequence()
      const { events, lagged } = this.poll()
      if (lagged > 0) {
        throw new SubscriptionLaggedError(`the subscriber fell behind and missed ${lagged} events`, { missed: lagged })
      }
      for (const e of events) {
        if (this.isClosed) return
        yield e
      }
      if (events.length === 0) await this.park(notifier, seen)
    }
  }

  private async park(notifier: Notifier, seen: number): Promise<void> {
    await notifier.wait(seen, new Promise<void>((r) => (this.wakeOnClose = r)))
    this.wakeOnClose = undefined
  }
}
