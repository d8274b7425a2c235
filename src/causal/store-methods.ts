import { NotFoundError } from '../errors.js'
import type { StoredEvent } from '../event.js'
import { blake3Hex } from '../native/loader.js'
import { Store } from '../store.js'
import { type AncestorWalk, checkLimit, walkChain } from './ancestors.js'
import { ChainVerifier, type ChainReport } from './verify.js'
import { type LongOpOptions, checkLongOpOptions, throwIfAborted, yieldToLoop } from '../ops/long-op.js'

/** Global sequences verifyChainAsync has read past, of those the store held when it started. */
export interface VerifyProgress {
  done: number
  total: number
}

/** Events per page of verifyChainAsync: one page between two turns of the event loop. */
const ASYNC_VERIFY_PAGE = 1024

/** Events per native read while verifying the whole store. */
const VERIFY_PAGE = 4096

declare module '../store.js' {
  interface Store {
    /**
     * The event and its predecessors on its entity's hash chain, newest
     * first, each re-hashed and checked against its link. A failed check
     * throws CorruptionError naming the event; an unknown id NotFoundError.
     * @param limit - most events returned. @defaultValue Infinity (back to genesis)
     */
    walkAncestors<P = unknown>(eventId: string, limit?: number): StoredEvent<P>[]
    /** Like walkAncestors, and says why the walk stopped (genesis, limit, missing parent). */
    walkAncestorsOutcome<P = unknown>(eventId: string, limit?: number): AncestorWalk<StoredEvent<P>>
    /** Recomputes every event's content hash and every chain link; O(events), paged reads. */
    verifyChain(): ChainReport
    /**
     * verifyChain() without holding the event loop: a bounded page at a
     * time, yielding between pages. Progress is in global sequences; an
     * abort rejects with OperationAbortedError (verification changes nothing).
     */
    verifyChainAsync(options?: LongOpOptions<VerifyProgress>): Promise<ChainReport>
  }
}

Store.prototype.walkAncestorsOutcome = function <P>(this: Store, eventId: string, limit: number = Number.POSITIVE_INFINITY) {
  const n = checkLimit(limit)
  const start = this.get<P>(eventId)
  if (!start) throw new NotFoundError(`no event with id ${eventId}`, { eventId })
  // One read: the start event, up to n - 1 ancestors, and one more so the link of the oldest returned is checked too.
  const window = this.readFiltered<P>({
    entity: start.coordinate.entity,
    exactEntity: true,
    clockFrom: n === Number.POSITIVE_INFINITY ? 0 : Math.max(0, start.clock - n),
    clockTo: start.clock,
  })
  return walkChain(window, n, blake3Hex)
}

Store.prototype.walkAncestors = function <P>(this: Store, eventId: string, limit?: number) {
  return this.walkAncestorsOutcome<P>(eventId, limit).events
}

Store.prototype.verifyChain = function (this: Store): ChainReport {
  const verifier = new ChainVerifier(blake3Hex)
  for (let from = 0; ; ) {
    const page = this.readFiltered({ fromSequence: from, limit: VERIFY_PAGE })
    for (const e of page) verifier.check(e.coordinate.entity, e)
    const last = page[page.length - 1]
    if (!last || page.length < VERIFY_PAGE) return verifier.report
    from = Number(last.globalSequence) + 1
  }
}

Store.prototype.verifyChainAsync = async function (this: Store, options?: LongOpOptions<VerifyProgress>): Promise<ChainReport> {
  const { signal, onProgress } = checkLongOpOptions<VerifyProgress>(options, 'verifyChainAsync')
  throwIfAborted(signal, 'chain verification')
  const verifier = new ChainVerifier(blake3Hex)
  let total = this.nativeHandle().nextSequence()
  onProgress?.({ done: 0, total })
  for (let from = 0; ; ) {
    await yieldToLoop()
    throwIfAborted(signal, 'chain verification')
    const page = this.readFiltered({ fromSequence: from, limit: ASYNC_VERIFY_PAGE })
    for (const e of page) verifier.check(e.coordinate.entity, e)
    const last = page[page.length - 1]
    if (!last || page.length < ASYNC_VERIFY_PAGE) {
      onProgress?.({ done: (total = Math.max(total, from)), total })
      return verifier.report
    }
    from = Number(last.globalSequence) + 1
    total = Math.max(total, from)  // appends went on: the end moved
    onProgress?.({ done: from, total })
  }
}
