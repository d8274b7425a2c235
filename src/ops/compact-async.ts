import { compactionChannel } from '../metrics/channels.js'
import { Store } from '../store.js'
import { withCompactionEpochAsync } from '../projection/epoch.js'
import { COMPACT_OPTION_KEYS, type CompactOptions, type CompactionReport, checkCompactOptions, policyPage } from './compact.js'
import { LONG_OP_KEYS, type LongOpOptions, checkLongOpOptions, runOnPool, throwIfAborted, yieldToLoop } from './long-op.js'

/** Where compactAsync is: keep() over sealed events (in events), then the rewrite (in source bytes). */
export interface CompactProgress {
  phase: 'policy' | 'rewrite'
  done: number
  total: number
}

export type CompactAsyncOptions = CompactOptions & LongOpOptions<CompactProgress>

declare module '../store.js' {
  interface Store {
    /**
     * compact() off the event loop: the keep() pass reads a page at a time,
     * yielding between pages; the rewrite runs on the libuv pool. Aborted
     * before the commit point, it rejects with OperationAbortedError and the
     * old generation stands; past it, the compaction finishes.
     */
    compactAsync(options: CompactAsyncOptions): Promise<CompactionReport>
  }
}

/** Events per page of the async policy pass: one page between two turns of the event loop. */
const ASYNC_PAGE = 1024
const WHAT = 'compaction'

Store.prototype.compactAsync = function (this: Store, options: CompactAsyncOptions): Promise<CompactionReport> {
  if (!compactionChannel.hasSubscribers) return compactInBackground(this, options)
  return compactionChannel.tracePromise(() => compactInBackground(this, options), { dataDir: this.dataDir, op: 'compactAsync' })
}

async function compactInBackground(store: Store, options: CompactAsyncOptions): Promise<CompactionReport> {
  const { strategy, keep, minSegments } = checkCompactOptions(options, 'compactAsync', [...COMPACT_OPTION_KEYS, ...LONG_OP_KEYS])
  const { signal, onProgress } = checkLongOpOptions<CompactProgress>(options, 'compactAsync', COMPACT_OPTION_KEYS)
  throwIfAborted(signal, WHAT)
  const h = store.nativeHandle()
  const sealed = h.sealedInfo()
  const rejected: number[] = []
  if (strategy !== 'merge' && sealed.segments >= minSegments) {
    const total = sealed.toSequence - sealed.fromSequence
    onProgress?.({ phase: 'policy', done: 0, total })
    for (let from: number | undefined = sealed.fromSequence; from !== undefined; ) {
      await yieldToLoop()
      throwIfAborted(signal, WHAT)
      from = policyPage(store, keep!, from, sealed.toSequence, ASYNC_PAGE, rejected)
      onProgress?.({ phase: 'policy', done: from === undefined ? total : from - sealed.fromSequence, total })
    }
  }
  throwIfAborted(signal, WHAT)
  const rewrite = onProgress && ((done: number, total: number) => onProgress({ phase: 'rewrite', done, total }))
  const drops = strategy !== 'merge' && sealed.segments >= minSegments
  const raw = await withCompactionEpochAsync(store, drops, () =>
    runOnPool(h, WHAT, signal, rewrite, (id, progress) => h.compactAsync(strategy, sealed.lastId, minSegments, Float64Array.from(rejected), id, progress)),
  )
  const { firstSegment: _first, lastSegment: _last, ...report } = raw
  return report
}
