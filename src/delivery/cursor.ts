import { InvalidArgumentError, StoreClosedError } from '../errors.js'
import type { StoredEvent } from '../event.js'
import type { NativeFilter } from '../native/binding.js'
import { isSelection, type Selection } from '../query/selection.js'
import type { Store } from '../store.js'
import { checkOptions, optionKeys } from '../strict.js'
import { Checkpoint } from './checkpoint.js'
import { Notifier } from './notifier.js'

export interface CursorOptions {
  /** First global sequence to deliver. @defaultValue 0n, or the checkpoint's position */
  from?: bigint
  /** Persist the position under this name in the data directory; resumes there after reopen. */
  checkpoint?: string
  /** Events read per native call by the async iterator. @defaultValue 256 */
  batchSize?: number
}

export const CURSOR_OPTION_KEYS = optionKeys<CursorOptions>()(['from', 'checkpoint', 'batchSize'])

/**
 * Pull-based, guaranteed delivery: every event matching the region, in
 * global order, with no gap and no duplicate within a process. With a
 * checkpoint, delivery is at-least-once across restarts: the position is
 * saved when the next batch is asked for (the previous one counts as handled)
 * or on `commit()`.
 */
export class Cursor<P = unknown> implements AsyncIterable<StoredEvent<P>> {
  private readonly store: Store
  private readonly filter: NativeFilter
  private readonly checkpoint: Checkpoint | undefined
  private readonly batchSize: number
  private next: bigint
  private delivered: bigint
  private closed = false
  private wakeOnClose: (() => void) | undefined

  /** @internal use store.cursor() */
  constructor(store: Store, region: Selection, options: CursorOptions = {}) {
    if (!isSelection(region)) throw new InvalidArgumentError('cursor expects a Region or a Query')
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('cursor options must be an object')
    checkOptions('cursor', options, CURSOR_OPTION_KEYS)
    if (options.from !== undefined && (typeof options.from !== 'bigint' || options.from < 0n)) {
      throw new InvalidArgumentError('cursor option from must be a non-negative bigint')
    }
    const batch = options.batchSize ?? 256
    if (!Number.isInteger(batch) || batch < 1 || batch > 1_000_000) throw new InvalidArgumentError('batchSize must be 1..1000000')
    this.store = store
    this.filter = region.toFilter(store.types)
    this.batchSize = batch
    this.checkpoint = options.checkpoint === undefined ? undefined : new Checkpoint(store.dataDir, options.checkpoint, region.toString(), store.fileMode)
    this.next = options.from ?? this.checkpoint?.load() ?? 0n
    this.delivered = this.next
  }

  /** The sequence the next read starts from. */
  get position(): bigint {
    return this.next
  }

  /** The next matching event, or undefined when there is none yet. */
  poll(): StoredEvent<P> | undefined {
    return this.pollBatch(1)[0]
  }

  /** Up to `max` matching events, in order; empty when there are none yet. */
  pollBatch(max: number): StoredEvent<P>[] {
    if (this.closed) throw new StoreClosedError('the cursor is closed')
    if (!Number.isInteger(max) || max < 1) throw new InvalidArgumentError('pollBatch expects a positive integer')
    this.commit()
    const h = this.store.nativeHandle()
    // Read the end first: everything below it is visible to the query, so a
    // short result means every event below `end` was looked at.
    const end = BigInt(h.nextSequence())
    const events = this.store.readFiltered<P>({ ...this.filter, fromSequence: Number(this.next), limit: max })
    const last = events[events.length - 1]
    if (last) this.next = last.globalSequence + 1n
    if (events.length < max && end > this.next) this.next = end
    return events
  }

  /** Saves the position of everything delivered so far (with a checkpoint name). */
  commit(): void {
    if (this.checkpoint && this.delivered !== this.next) this.checkpoint.save(this.next)
    this.delivered = this.next
  }

  /** Stops the async iterator (waking it if it waits); the position stays where it is. */
  close(): void {
    this.closed = true
    this.wakeOnClose?.()
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StoredEvent<P>> {
    const notifier = Notifier.of(this.store)
    while (!this.closed && !this.store.closed) {
      const seen = this.store.nativeHandle().nextSequence()
      const batch = this.pollBatch(this.batchSize)
      for (const e of batch) {
        if (this.closed) return
        yield e
      }
      if (batch.length === 0) {
        await notifier.wait(seen, new Promise<void>((r) => (this.wakeOnClose = r)))
        this.wakeOnClose = undefined
      }
    }
  }
}
