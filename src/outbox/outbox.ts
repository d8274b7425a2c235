import { encodePayload } from '../codec.js'
import { Coordinate } from '../coordinate.js'
import { InvalidArgumentError, InvalidCoordinateError } from '../errors.js'
import { type EventKind, userKind } from '../kind.js'
import type { AppendReceipt } from '../receipt.js'
import { BATCH_ITEM_KEYS, BATCH_OPTION_KEYS, type BatchItem, type BatchOptions, type Immediate, type Store } from '../store.js'
import { checkOptions, omitKeys } from '../strict.js'
import { OutboxClosedError } from './outbox-closed-error.js'

/** Per-event options of a staged event: those of a batch item. */
export type StageOptions = Omit<BatchItem, 'coord' | 'kind' | 'payload'>
export const STAGE_OPTION_KEYS = omitKeys(BATCH_ITEM_KEYS, 'coord', 'kind', 'payload')

/**
 * Events staged in memory and committed together by `flush` as one atomic
 * batch: all of them or none, also across a crash. Nothing is written
 * before `flush`; an outbox dropped or discarded writes nothing.
 */
export class Outbox {
  /** @internal */ private readonly store: Store
  /** @internal */ private items: BatchItem[] | undefined = []
  /** @internal */ private closedBy: 'flushed' | 'discarded' | undefined

  /** @internal made by store.outbox() */
  constructor(store: Store) {
    this.store = store
  }

  /** @internal */
  private open(what: string): BatchItem[] {
    if (!this.items) throw new OutboxClosedError(`cannot ${what}: the outbox was already ${this.closedBy}`)
    return this.items
  }

  /**
   * Stages one event and returns its index, which a later item can name as
   * `causation: { priorItem: index }`. The payload is checked and copied now,
   * so changing the object afterwards does not change what is written.
   */
  stage(coord: Coordinate, kind: EventKind | string, payload: unknown, options?: StageOptions): number {
    const items = this.open('stage')
    if (!(coord instanceof Coordinate)) throw new InvalidCoordinateError('coord must be a Coordinate')
    // A type name is looked up, and its schema checks the payload, now.
    const k = typeof kind === 'string' ? this.store.types.forAppend(kind, payload) : userKind(kind)
    checkOptions('stage', options, STAGE_OPTION_KEYS)
    encodePayload(payload)
    const c = options?.causation
    if (typeof c === 'object' && c !== null && 'priorItem' in c && !(Number.isInteger(c.priorItem) && c.priorItem >= 0 && c.priorItem < items.length)) {
      throw new InvalidArgumentError(`causation.priorItem must name an earlier staged event (0..${items.length - 1})`)
    }
    items.push({ ...options, coord, kind: k, payload: structuredClone(payload) })
    return items.length - 1
  }

  /** How many events are staged. */
  get size(): number {
    return this.items?.length ?? 0
  }

  /** 'open', or how it was closed. */
  get state(): 'open' | 'flushed' | 'discarded' {
    return this.closedBy ?? 'open'
  }

  /**
   * Commits every staged event as one appendBatch; receipts come back in
   * staging order (none for an empty outbox). If the batch is refused
   * (e.g. SequenceMismatchError) nothing is written and the outbox stays
   * open, to discard or flush again. Afterwards it is closed.
   */
  flush(options?: Immediate<BatchOptions>): AppendReceipt[] {
    const items = this.open('flush')
    checkOptions('flush', options, BATCH_OPTION_KEYS)
    const receipts = items.length === 0 ? [] : this.store.appendBatch(items, options)
    this.items = undefined
    this.closedBy = 'flushed'
    return receipts
  }

  /** Drops every staged event; the outbox is closed and nothing is written. */
  discard(): void {
    this.open('discard')
    this.items = undefined
    this.closedBy = 'discarded'
  }
}
