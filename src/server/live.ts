/**
 * The pump behind every live stream (SSE and WebSocket): reads a cursor or
 * a subscription in batches, hands each event to a sink that may make it
 * wait (a full socket buffer), and parks on the store's own wakeups
 * (Notifier: appends by this process or any other) when nothing is new.
 * A slow client therefore stops the reads: the server holds at most one
 * batch per stream. Cursors lose nothing; a subscription that falls more
 * than the store's subscriberCapacity behind loses the oldest events and
 * its sink is told how many (lag).
 */
import { Notifier } from '../delivery/notifier.js'
import type { StoredEvent } from '../event.js'
import type { Selection } from '../query/selection.js'
import type { Store } from '../store.js'

export type LiveMode = 'cursor' | 'subscription'

export interface Sink {
  /** Delivers one event; resolves once the client can take more. */
  event(e: StoredEvent): Promise<void> | void
  /** Delivers a batch at once (one socket write instead of one per event); event() is used when absent. */
  events?(es: StoredEvent[]): Promise<void> | void
  /** Tells the client `missed` events were lost (subscriptions only). */
  lag(missed: number): Promise<void> | void
}

/** A running stream; stop() ends it (idempotent) and `done` settles once it has. */
export interface Live {
  stop(): void
  readonly done: Promise<void>
}

const BATCH = 256

/**
 * Starts delivering `sel` to `sink`: a cursor from `from` (every event at or
 * after it), or a subscription to what is appended from now on.
 */
export function startLive(store: Store, sel: Selection, mode: LiveMode, from: bigint, sink: Sink): Live {
  let stopped = false
  let wake!: () => void
  const stopping = new Promise<void>((r) => (wake = r))
  const read: () => { events: StoredEvent[]; lagged: number } =
    mode === 'cursor'
      ? (() => {
          const c = store.cursor(sel, { from })
          return () => ({ events: c.pollBatch(BATCH), lagged: 0 })
        })()
      : (() => {
          const s = store.subscribe(sel)
          return () => s.poll(BATCH)
        })()
  const done = (async () => {
    const notifier = Notifier.of(store)
    while (!stopped && !store.closed) {
      const seen = store.nativeHandle().nextSequence()
      const { events, lagged } = read()
      if (lagged > 0) await sink.lag(lagged)
      if (sink.events !== undefined && events.length > 0) {
        if (stopped) return
        await sink.events(events)
      } else {
        for (const e of events) {
          if (stopped) return
          await sink.event(e)
        }
      }
      if (events.length === 0 && lagged === 0) await notifier.wait(seen, stopping)
    }
  })()
  return {
    stop() {
      stopped = true
      wake()
    },
    done,
  }
}
