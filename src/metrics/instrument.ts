import type { Store } from '../store.js'
import { recoveryChannel, rollChannel, syncChannel } from './channels.js'

/** Sync and roll durations the engine recorded since the last drain: into the histograms and the channels. */
export function drain(store: Store): void {
  const m = store.meter
  const n = store.nativeHandle().metrics(m.syncCursor, m.rollCursor)
  m.syncCursor = n.syncNext
  m.rollCursor = n.rollNext
  m.absorb(n)
  if (syncChannel.hasSubscribers) for (const micros of n.syncMicros) syncChannel.publish({ dataDir: store.dataDir, micros })
  if (rollChannel.hasSubscribers) for (const micros of n.rollMicros) rollChannel.publish({ dataDir: store.dataDir, micros })
}

/** How often the background syncs and rolls reach their channels, when anyone listens. */
const PUMP_MS = 1000

/**
 * Called once per open: publishes the recovery, and drains the engine's sync
 * and roll records to their channels every PUMP_MS while they have
 * subscribers (an unref'd timer, stopped at close). @internal
 */
export function instrumentOpen(store: Store): void {
  if (recoveryChannel.hasSubscribers) {
    const s = store.stats()
    recoveryChannel.publish({
      dataDir: store.dataDir,
      micros: Math.round(s.openMs * 1000),
      tornBytes: s.recoveredTornBytes,
      fromCheckpoint: s.openedFromCheckpoint,
      footersLoaded: s.footersLoaded,
    })
  }
  const timer = setInterval(() => {
    if ((syncChannel.hasSubscribers || rollChannel.hasSubscribers) && !store.closed) drain(store)
  }, PUMP_MS)
  timer.unref()
  store.onClose(() => clearInterval(timer))
}
