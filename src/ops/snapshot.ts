import type { NativeSnapshotReport } from '../native/binding.js'
import { Store } from '../store.js'
import { checkSnapshotDest } from './snapshot-dest.js'

export interface SnapshotReport {
  /** Absolute path of the snapshot directory. */
  path: string
  /** The snapshot holds every event with a global sequence below this. */
  sequence: bigint
  segments: number
  /** Sealed segments shared by hard link (no bytes copied). */
  linked: number
  /** Segments copied (the newest one always is). */
  copied: number
  bytes: number
}

declare module '../store.js' {
  interface Store {
    /**
     * A consistent, openable copy of the store in `destDir` (which must not
     * exist or be empty), taken while appends go on: every event synced when
     * it starts. Sealed segments are hard-linked where the filesystem allows.
     * Killed midway, it leaves no `destDir` (only a temporary directory the
     * next snapshot to the same place removes). A `destDir` inside the data
     * directory (or equal to it) is refused with InvalidArgumentError.
     * Files and directories it creates get the store's `fileMode`.
     */
    snapshot(destDir: string): SnapshotReport
  }
}

/** Where a snapshot goes: checks `destDir` against the store; snapshot and snapshotAsync both call it. */
export function snapshotDestination(store: Store, destDir: string): string {
  return checkSnapshotDest(store.dataDir, destDir)
}

export function snapshotReport(dest: string, r: NativeSnapshotReport): SnapshotReport {
  return { path: dest, sequence: BigInt(r.sequence), segments: r.segments, linked: r.linked, copied: r.copied, bytes: r.bytes }
}

Store.prototype.snapshot = function (this: Store, destDir: string): SnapshotReport {
  const dest = snapshotDestination(this, destDir)
  return snapshotReport(dest, this.nativeHandle().snapshot(dest))
}
