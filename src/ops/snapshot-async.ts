import { Store } from '../store.js'
import { type LongOpOptions, checkLongOpOptions, runOnPool, throwIfAborted } from './long-op.js'
import { type SnapshotReport, snapshotDestination, snapshotReport } from './snapshot.js'

/** Bytes linked or copied into the snapshot so far. */
export interface SnapshotProgress {
  done: number
  total: number
}

export type SnapshotAsyncOptions = LongOpOptions<SnapshotProgress>

declare module '../store.js' {
  interface Store {
    /**
     * snapshot() on the libuv pool. Aborted before the copy is renamed into
     * place, it removes what it wrote and rejects with OperationAbortedError.
     */
    snapshotAsync(destDir: string, options?: SnapshotAsyncOptions): Promise<SnapshotReport>
  }
}

const WHAT = 'the snapshot'

Store.prototype.snapshotAsync = async function (this: Store, destDir: string, options?: SnapshotAsyncOptions): Promise<SnapshotReport> {
  const { signal, onProgress } = checkLongOpOptions<SnapshotProgress>(options, 'snapshotAsync')
  const dest = snapshotDestination(this, destDir)
  throwIfAborted(signal, WHAT)
  const h = this.nativeHandle()
  const progress = onProgress && ((done: number, total: number) => onProgress({ done, total }))
  const raw = await runOnPool(h, WHAT, signal, progress, (id, p) => h.snapshotAsync(dest, id, p))
  return snapshotReport(dest, raw)
}
