import type { StoreStats } from '../stats.js'
import { Store } from '../store.js'
import { snapshotsOf } from '../projection/persist-hook.js'
import type { ProjectionSnapshotCounters } from '../projection/persist.js'
import { type MaintenanceCounters, maintenanceOf } from './maintenance.js'

export interface SegmentDiagnostics {
  id: number
  file: string
  /** First global sequence the segment may hold. */
  baseSequence: bigint
  /** Sequence after its last event. */
  nextSequence: bigint
  bytes: number
  sealed: boolean
  active: boolean
}

export interface Diagnostics extends StoreStats {
  dataDir: string
  readOnly: boolean
  /** Events appended but not yet known synced (nextSequence - durableSequence). */
  unsyncedEvents: bigint
  /** Resident index bytes per event. */
  indexBytesPerEvent: number
  segmentList: SegmentDiagnostics[]
  /** Background maintenance in this process, when the open configured it (and may write). */
  maintenance?: MaintenanceCounters
  /** Persisted projection states in this process, when the open enabled them. */
  projectionSnapshots?: ProjectionSnapshotCounters
}

declare module '../store.js' {
  interface Store {
    /** Everything an operator asks about: segments, bytes, events, durable and visible sequence, index memory, syncs. */
    diagnostics(): Diagnostics
    /**
     * Read-only stores: picks up events a writer in another process appended
     * since the open (or a compaction it finished). Returns how many events
     * this call added; wakes this store's cursors and subscriptions. A
     * read-only store also follows a live writer by itself (its notes over
     * `<dataDir>/writer.sock`), so this adds only what they have not brought
     * yet; it is needed for a writer that serves no socket (`exclusive`). A
     * no-op (0) on a writable store, which is always current.
     */
    refresh(): number
  }
}

Store.prototype.diagnostics = function (this: Store): Diagnostics {
  const st = this.stats()
  const segs = this.nativeHandle().segments()
  const maintenance = maintenanceOf(this)
  const persisted = snapshotsOf(this)
  return {
    ...(maintenance ? { maintenance: { ...maintenance.counters } } : {}),
    ...(persisted ? { projectionSnapshots: { ...persisted.counters } } : {}),
    ...st,
    dataDir: this.dataDir,
    readOnly: this.readOnly,
    unsyncedEvents: st.nextSequence - st.durableSequence,
    indexBytesPerEvent: st.events > 0 ? st.indexBytes / st.events : 0,
    segmentList: segs.map((s) => ({
      id: s.id,
      file: s.file,
      baseSequence: BigInt(s.baseSequence),
      nextSequence: BigInt(s.nextSequence),
      bytes: s.bytes,
      sealed: s.sealed,
      active: s.active,
    })),
  }
}

Store.prototype.refresh = function (this: Store): number {
  return this.nativeHandle().refresh()
}
