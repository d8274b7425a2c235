import { maintenanceChannel } from '../metrics/channels.js'
import { addMetrics } from '../metrics/store-methods.js'
import { registerOpenHook } from '../open-hooks.js'
import type { StoreOptions } from '../options.js'
import type { Store } from '../store.js'
import { type NormalizedMaintenance, checkMaintenance } from './maintenance-options.js'
import { type DeadCount, compactionDue, newestSnapshotAt, pruneSnapshots, runCompaction, runSnapshot } from './maintenance-tasks.js'

/** What background maintenance did in this open (metrics().maintenance). */
export interface MaintenanceCounters {
  compactions: number
  eventsDropped: number
  bytesReclaimed: number
  snapshots: number
  /** Old snapshots removed beyond `keep`. */
  pruned: number
  failures: number
  lastError: string | null
  lastCompactionAt: Date | null
  lastSnapshotAt: Date | null
  /** The task running now. */
  running: 'compact' | 'snapshot' | null
}

/**
 * Background compaction and snapshots of one open store. Runs only while
 * this process is the writer (a client that takes over starts then); one
 * task at a time, on the async operations' native threads, so appends wait
 * at most for a segment roll. An unref'd timer; stopped (and a running task
 * cancelled) at close.
 */
export class Maintenance {
  readonly counters: MaintenanceCounters = {
    compactions: 0,
    eventsDropped: 0,
    bytesReclaimed: 0,
    snapshots: 0,
    pruned: 0,
    failures: 0,
    lastError: null,
    lastCompactionAt: null,
    lastSnapshotAt: null,
    running: null,
  }
  private readonly timer: ReturnType<typeof setInterval>
  private readonly abort = new AbortController()
  private dead: DeadCount = { next: 0, total: 0, dead: 0 }
  private lastSnapshot: number
  /** The task in flight, for tests and close. */
  current: Promise<void> | undefined

  constructor(
    private readonly store: Store,
    private readonly o: NormalizedMaintenance,
  ) {
    this.lastSnapshot = o.snapshot ? newestSnapshotAt(o.snapshot.to) : 0
    this.timer = setInterval(() => this.tick(), o.checkEveryMs)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.abort.abort(new Error('the store is closing'))
  }

  private publish(task: 'compact' | 'snapshot', event: 'done' | 'failed' | 'pruned', extra: Record<string, unknown>): void {
    if (maintenanceChannel.hasSubscribers) maintenanceChannel.publish({ dataDir: this.store.dataDir, task, event, ...extra })
  }

  /** One check; returns the task it ran (or the one still running), if any. */
  tick(): Promise<void> | undefined {
    if (this.current || this.store.closed || this.abort.signal.aborted) return this.current
    if (this.store.stats().role !== 'writer') return undefined
    this.current = this.step()
      .catch((e: unknown) => this.failed(this.counters.running ?? 'compact', e))
      .finally(() => {
        this.current = undefined
        this.counters.running = null
      })
    return this.current
  }

  private stopped = (): boolean => this.abort.signal.aborted || this.store.closed

  private async step(): Promise<void> {
    const { compact, snapshot } = this.o
    if (compact) {
      let due = false
      try {
        due = await compactionDue(this.store, compact, this.dead, this.stopped)
      } catch (e) {
        return this.failed('compact', e)
      }
      if (due && !this.stopped()) {
        this.counters.running = 'compact'
        try {
          const r = await runCompaction(this.store, compact, this.abort.signal)
          this.dead = { next: 0, total: 0, dead: 0 }
          if (r.performed) {
            this.counters.compactions++
            this.counters.eventsDropped += r.eventsDropped
            this.counters.bytesReclaimed += Math.max(0, r.bytesBefore - r.bytesAfter)
            this.counters.lastCompactionAt = new Date()
          }
          this.publish('compact', 'done', { report: r })
        } catch (e) {
          return this.failed('compact', e)
        }
      }
    }
    if (snapshot && !this.stopped() && Date.now() - this.lastSnapshot >= snapshot.every) {
      this.counters.running = 'snapshot'
      try {
        const r = await runSnapshot(this.store, snapshot, this.abort.signal)
        this.lastSnapshot = Date.now()
        this.counters.snapshots++
        this.counters.lastSnapshotAt = new Date()
        this.publish('snapshot', 'done', { report: r })
        const gone = pruneSnapshots(snapshot.to, snapshot.keep)
        this.counters.pruned += gone.length
        if (gone.length > 0) this.publish('snapshot', 'pruned', { removed: gone })
      } catch (e) {
        return this.failed('snapshot', e)
      }
    }
  }

  private failed(task: 'compact' | 'snapshot', e: unknown): void {
    // A close cancels the running task: not a failure.
    if (this.stopped()) return
    this.counters.failures++
    this.counters.lastError = `${task}: ${(e as Error)?.message ?? String(e)}`
    this.publish(task, 'failed', { error: e })
  }
}

const running = new WeakMap<Store, Maintenance>()

/** The store's background maintenance, when its open configured it (and it may write). @internal */
export function maintenanceOf(store: Store): Maintenance | undefined {
  return running.get(store)
}

registerOpenHook({
  check: (o: StoreOptions) => checkMaintenance(o.maintenance, o.dataDir),
  start(store, checked) {
    // Read-only opens never maintain; clients check their role at each tick (one may become the writer).
    if (!checked || store.readOnly) return
    const m = new Maintenance(store, checked as NormalizedMaintenance)
    running.set(store, m)
    store.onBeforeClose(() => m.stop())
  },
})

addMetrics((store, out) => {
  const m = running.get(store)
  if (m) out.maintenance = { ...m.counters }
})
