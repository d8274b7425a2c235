import { type BatchLayout, encodeEvent, layOutBatch, placeRequest, writeKind } from './append-encoding.js'
import { encodeSingleWithin, encodeWithin } from './codec.js'
import { explicitVersion } from './stored-version.js'
import { Coordinate, validateName } from './coordinate.js'
import { InternedNames } from './interned-names.js'
import { InvalidArgumentError, InvalidCoordinateError, StoreClosedError } from './errors.js'
import { eventsOf, type NameTable, type StoredEvent } from './event.js'
import { parseUuid } from './ids.js'
import { EventKind, userKind } from './kind.js'
import { RESERVED_ENTITY_PREFIX, TYPES_COORD, TypeRegistry } from './types/registry.js'
import type { UpcastPlan } from './types/upcast.js'
import type { NativeFilter, NativeStore, NativeStoreOptions } from './native/binding.js'
import { Item, Rcpt, Req } from './native/layouts.js'
import { native } from './native/loader.js'
import { normalizeOptions, type StoreOptions } from './options.js'
import { checkOpenHooks, startOpenHooks } from './open-hooks.js'
import { refuseReplicaWrite, replicated } from './replication-link.js'
import { ReceiptArena } from './receipt-arena.js'
import { AppendReceipt } from './receipt.js'
import { readEvents } from './lazy-events.js'
import { type EventPages, type QueryOptions, queryPages, type StreamOptions, streamPages } from './paging.js'
import { Region } from './region.js'
import { conditionFilter } from './query/condition.js'
import { type Selection, toNativeFilter } from './query/selection.js'
import { appendChannel } from './metrics/channels.js'
import { countRefusal, Metrics } from './metrics/metrics.js'
import { instrumentOpen } from './metrics/instrument.js'
import { type StoreStats, storeStats } from './stats.js'
import { checkOptions } from './strict.js'
import type { AppendCondition, AppendOptions, BatchItem, BatchOptions, Immediate, ReactionOptions, Replicated } from './append-options.js'
import { APPEND_OPTION_KEYS, BATCH_ITEM_KEYS, BATCH_OPTION_KEYS, REACTION_OPTION_KEYS } from './append-options.js'

export * from './append-options.js'

/** The batch descriptor buffer is kept up to this size (8,192 items). */
const MAX_KEPT_DESC = 8192 * Item.size

const NO_OPTIONS: AppendOptions = Object.freeze({})

/**
 * An open event store. Every method is synchronous. One Store per
 * directory per process may write; others get StoreLockedError.
 */
export class Store implements NameTable {
  readonly dataDir: string
  readonly readOnly: boolean
  /** Permission bits of the files the store creates (the `fileMode` option). */
  readonly fileMode: number
  /** @internal */ private handle: NativeStore | undefined
  /** @internal */ private readonly opts: NativeStoreOptions
  /** @internal */ private readonly request = new Uint8Array(Req.size)
  /** @internal */ private readonly rq = new DataView(this.request.buffer)
  /** @internal */ private receipts!: ReceiptArena
  // A Buffer: msgpackr encodes strings into it with Buffer methods.
  /** @internal */ private batchScratch = Buffer.alloc(64 * 1024)
  /** @internal Batch item descriptors, reused (the addon reads them during the call only). */ private batchDesc = new Uint8Array(128 * Item.size)
  /** @internal */ private readonly names = new InternedNames()
  /** @internal live(), bound once: coordinate() runs per event read. */
  private readonly liveHandle = (): NativeStore => this.live()
  /** @internal */ private readonly closeHooks: Array<() => void> = []
  /** @internal Run while the store is still open, at the start of close(). */
  private readonly beforeCloseHooks: Array<() => void> = []
  /** @internal Counters and latencies for metrics(); see src/metrics. */
  readonly meter = new Metrics()
  /** @internal */ private registry: TypeRegistry | undefined
  /** @internal Set on a read replica's store (replication/role.json): appends are refused. */ replicaOf: string | undefined

  private constructor(opts: NativeStoreOptions) {
    this.opts = opts
    this.dataDir = opts.dataDir
    this.readOnly = opts.readOnly
    this.fileMode = opts.fileMode
    const h = (this.handle = new (native().NativeStore)(opts))
    this.receipts = new ReceiptArena((arena) => h.setBuffers(this.request, arena))
  }

  /** Opens (creating when missing) the store in `options.dataDir`, recovering it after a crash. */
  static open(options: StoreOptions): Store {
    const opts = normalizeOptions(options)
    const checked = checkOpenHooks(options)
    const store = new Store(opts)
    instrumentOpen(store)
    try {
      startOpenHooks(store, checked)
    } catch (e) {
      store.close()
      throw e
    }
    return store
  }

  get closed(): boolean {
    return this.handle === undefined
  }

  /** @internal */
  private live(): NativeStore {
    if (!this.handle) throw new StoreClosedError('the store is closed')
    return this.handle
  }

  /** Named event types: `types.define(name, { schema?, kind? })` and lookups (see README, Types and schemas). */
  get types(): TypeRegistry {
    return (this.registry ??= new TypeRegistry(this))
  }

  /** @internal NameTable: the type name of a kind value, or undefined. */
  typeName(kind: number): string | undefined {
    return this.types.nameOf(kind)
  }

  /** @internal NameTable: the kind's upcast plan, or undefined (no registry yet: none). */
  upcastPlan(kind: number): UpcastPlan | undefined {
    return this.registry?.planOf(kind)
  }

  /** @internal The coordinate's interned ids in this store, cached on it; `$causeway:` entities are the store's own. */
  private interned(h: NativeStore, coord: Coordinate): Coordinate['interned'] {
    const ids = coord.interned
    if (ids.owner !== this) {
      if (coord !== TYPES_COORD && coord.entity.startsWith(RESERVED_ENTITY_PREFIX)) {
        throw new InvalidCoordinateError(`entity ${coord.entity}: entities beginning with ${RESERVED_ENTITY_PREFIX} are the store's own`)
      }
      ids.entity = this.names.entityId(h, coord.entity)
      ids.scope = this.names.scopeId(h, coord.scope)
      ids.owner = this
    }
    return ids
  }

  /** @internal NameTable: the Coordinate for interned ids, cached. */
  coordinate(entityId: number, scopeId: number): Coordinate {
    return this.names.coordinate(this.liveHandle, entityId, scopeId)
  }

  /**
   * Appends one event of a kind or a defined type name (its schema checks
   * the payload first); returns once it is written (and synced, with
   * `durable: true`; acknowledged by JetStream, as a Promise, with `durable: 'replicated'`).
   */
  append(coord: Coordinate, kind: EventKind | string, payload: unknown, options: Replicated<AppendOptions>): Promise<AppendReceipt>
  append(coord: Coordinate, kind: EventKind | string, payload: unknown, options?: Immediate<AppendOptions>): AppendReceipt
  append(coord: Coordinate, kind: EventKind | string, payload: unknown, options?: AppendOptions): AppendReceipt | Promise<AppendReceipt> {
    if (this.replicaOf !== undefined) refuseReplicaWrite(this.replicaOf)
    if (options?.durable === 'replicated') return replicated(this, () => this.append(coord, kind, payload, { ...options, durable: false }))
    return this.appendKind(coord, typeof kind === 'string' ? this.types.forAppend(kind, payload) : userKind(kind), payload, options)
  }

  /**
   * @internal Appends with any kind, reserved ones included: the library's
   * own system events (denials, ...) go through here; users cannot.
   */
  appendSystem(coord: Coordinate, kind: EventKind, payload: unknown, options?: Immediate<AppendOptions>): AppendReceipt {
    if (this.replicaOf !== undefined) refuseReplicaWrite(this.replicaOf)
    if (!(kind instanceof EventKind)) throw new InvalidArgumentError('kind must be an EventKind')
    return this.appendKind(coord, kind, payload, options)
  }

  /** @internal append and appendSystem, traced when the append channel has subscribers. */
  private appendKind(coord: Coordinate, k: EventKind, payload: unknown, options?: AppendOptions): AppendReceipt {
    if (!appendChannel.hasSubscribers) return this.writeOne(coord, k, payload, options)
    const ctx = { dataDir: this.dataDir, op: 'append', events: 1, durable: options?.durable === true }
    return appendChannel.traceSync(() => this.writeOne(coord, k, payload, options), ctx)
  }
  private writeOne(coord: Coordinate, k: EventKind, payload: unknown, options?: AppendOptions): AppendReceipt {
    const h = this.live()
    if (!(coord instanceof Coordinate)) throw new InvalidCoordinateError('coord must be a Coordinate')
    checkOptions('append', options, APPEND_OPTION_KEYS)
    const o = options ?? NO_OPTIONS
    const q = this.request
    const v = this.rq
    const { flags, key, ext } = encodeEvent(q, v, 0, Req, o, o.causationId, this.types.versionOf(k))
    placeRequest(q, v, key, ext)
    if (o.durable !== undefined && typeof o.durable !== 'boolean') throw new InvalidArgumentError('durable must be a boolean')
    const bytes = encodeSingleWithin(payload, this.opts.maxPayloadBytes)
    const ids = this.interned(h, coord)
    v.setUint32(Req.entity, ids.entity, true)
    v.setUint32(Req.scope, ids.scope, true)
    writeKind(q, v, 0, Req, k, flags)
    const arena = this.receipts
    const at = arena.one()
    const durable = o.durable === true
    const m = this.meter
    const t0 = m.shouldTime(durable) ? performance.now() : -1
    try {
      h.append(bytes, durable, at)
    } catch (e) {
      countRefusal(m, e)
      throw e
    }
    if (t0 >= 0) m.recordCall(durable, (performance.now() - t0) * 1000)
    arena.take(arena, Rcpt.size)
    const r = new AppendReceipt(arena.buf, arena.view, at)
    m.counters.appends++
    m.wrote(r.deduplicated, bytes.byteLength)
    return r
  }

  /** Appends an event caused by another: correlation kept, causation recorded. */
  appendReaction(coord: Coordinate, kind: EventKind | string, payload: unknown, correlationId: string, causationId: string, options?: Immediate<ReactionOptions>): AppendReceipt {
    checkOptions('appendReaction', options, REACTION_OPTION_KEYS)
    return this.append(coord, kind, payload, { ...options, correlationId, causationId })
  }

  /** Appends every item or none, also across a crash. Receipts come back in item order. */
  appendBatch(items: readonly BatchItem[], options: Replicated<BatchOptions>): Promise<AppendReceipt[]>
  appendBatch(items: readonly BatchItem[], options?: Immediate<BatchOptions>): AppendReceipt[]
  appendBatch(items: readonly BatchItem[], options?: BatchOptions): AppendReceipt[] | Promise<AppendReceipt[]> {
    if (this.replicaOf !== undefined) refuseReplicaWrite(this.replicaOf)
    if (options?.durable === 'replicated') return replicated(this, () => this.commitBatch(items, { ...options, durable: false }, undefined))
    return this.commitBatch(items, options, undefined)
  }
  /** @internal appendBatch and appendIf, traced when the append channel has subscribers. */
  private commitBatch(items: readonly BatchItem[], options: BatchOptions | undefined, condition: NativeFilter | undefined): AppendReceipt[] {
    if (!appendChannel.hasSubscribers) return this.writeBatch(items, options, condition)
    const ctx = {
      dataDir: this.dataDir,
      op: condition ? 'appendIf' : 'appendBatch',
      events: Array.isArray(items) ? items.length : 0,
      durable: options?.durable === true,
    }
    return appendChannel.traceSync(() => this.writeBatch(items, options, condition), ctx)
  }

  /**
   * Appends every item atomically, only if no event matching
   * `failIfEventsMatch` (a Region or a DCB Query) was appended after
   * position `after` (a global sequence, typically decide's or a
   * projection's `position`; null: the store must hold no matching event
   * at all). Otherwise throws AppendConditionError and
   * writes nothing. The check and the append are one atomic step.
   */
  appendIf(items: readonly BatchItem[], condition: AppendCondition, options: Replicated<BatchOptions>): Promise<AppendReceipt[]>
  appendIf(items: readonly BatchItem[], condition: AppendCondition, options?: Immediate<BatchOptions>): AppendReceipt[]
  appendIf(items: readonly BatchItem[], condition: AppendCondition, options?: BatchOptions): AppendReceipt[] | Promise<AppendReceipt[]> {
    if (this.replicaOf !== undefined) refuseReplicaWrite(this.replicaOf)
    if (options?.durable === 'replicated') return replicated(this, () => this.appendIf(items, condition, { ...options, durable: false }))
    return this.commitBatch(items, options, conditionFilter(condition, this.types))
  }

  /** @internal */
  private writeBatch(items: readonly BatchItem[], options: BatchOptions | undefined, condition: NativeFilter | undefined): AppendReceipt[] {
    const h = this.live()
    if (!Array.isArray(items)) throw new InvalidArgumentError('appendBatch expects an array of items')
    if (items.length === 0) throw new InvalidArgumentError('appendBatch needs at least one item')
    const method = condition ? 'appendIf' : 'appendBatch'
    checkOptions(method, options, BATCH_OPTION_KEYS)
    for (let i = 0; i < items.length; i++) checkOptions(`${method} batch item ${i}`, items[i], BATCH_ITEM_KEYS)
    const { desc, bytes, n } = this.encodeBatch(h, items)
    const need = n * Rcpt.size
    const room = this.receipts.many(need)
    const { buf, view, at } = room
    const durable = options?.durable === true
    const m = this.meter
    const t0 = m.shouldTime(durable) ? performance.now() : -1
    try {
      h.appendBatch(desc, bytes, n, durable, buf.subarray(at, at + need), condition)
    } catch (e) {
      countRefusal(m, e)
      throw e
    }
    this.receipts.take(room, need)
    if (t0 >= 0) m.recordCall(durable, (performance.now() - t0) * 1000)
    const out: AppendReceipt[] = []
    const share = bytes.byteLength / n
    for (let i = 0; i < n; i++) {
      const r = new AppendReceipt(buf, view, at + i * Rcpt.size)
      m.wrote(r.deduplicated, share)
      out.push(r)
    }
    m.counters.batches++
    return out
  }

  /** @internal Validates and lays out batch items for the addon. */
  private encodeBatch(h: NativeStore, items: readonly BatchItem[]): BatchLayout {
    const encode = (payload: unknown) => encodeWithin(payload, this.opts.maxPayloadBytes)
    const intern = (coord: Coordinate) => this.interned(h, coord)
    const kinds = items.map((it, i) => {
      if (typeof it !== 'object' || it === null) throw new InvalidArgumentError(`batch item ${i} must be an object`)
      return typeof it.kind === 'string' ? this.types.forAppend(it.kind, it.payload) : userKind(it.kind)
    })
    for (;;) {
      const need = items.length * Item.size
      if (this.batchDesc.length < need && need <= MAX_KEPT_DESC) this.batchDesc = new Uint8Array(need)
      const desc = this.batchDesc.length >= need ? this.batchDesc.subarray(0, need) : new Uint8Array(need)
      const laid = layOutBatch(items, kinds, kinds.map((k, i) => explicitVersion(items[i], i) ?? this.types.versionOf(k)), this.batchScratch, desc, encode, intern)
      if (laid) return laid
      // The batch outgrew the buffer: a bigger one, and the batch again.
      this.batchScratch = Buffer.alloc(this.batchScratch.length * 2)
    }
  }

  /** @internal The addon handle, for the delivery and causal layers. */
  nativeHandle(): NativeStore {
    return this.live()
  }

  /** @internal Events of a records buffer from the addon. */
  eventsFrom<P = unknown>(buf: Buffer): StoredEvent<P>[] {
    return eventsOf(buf, this, this.durableBelow(this.live())) as StoredEvent<P>[]
  }

  /** @internal Every event below this sequence was synced when it was asked. */
  durableBelow(h: NativeStore): bigint {
    return BigInt(h.durableSequence())
  }

  /** The event with this id, or undefined. */
  get<P = unknown>(eventId: string): StoredEvent<P> | undefined {
    const h = this.live()
    const id = new Uint8Array(16)
    parseUuid('eventId', eventId, id, 0)
    const buf = h.get(id)
    return buf ? (eventsOf(buf, this, this.durableBelow(h))[0] as StoredEvent<P>) : undefined
  }

  /** Every event of exactly this entity, in clock order (over 4096: read as reached, lazy-events.ts); with options, a lazy walk of a clock range (paging.ts). */
  stream<P = unknown>(entity: string | Coordinate, options?: undefined): StoredEvent<P>[]
  stream<P = unknown>(entity: string | Coordinate, options: StreamOptions): EventPages<P>
  stream<P = unknown>(entity: string | Coordinate, options?: StreamOptions): StoredEvent<P>[] | EventPages<P> {
    if (options !== undefined) return streamPages<P>(this, entity, options)
    return readEvents<P>(this, { entity: entity instanceof Coordinate ? entity.entity : validateName('entity', entity), exactEntity: true })
  }

  /** The entity's current clock (0 when it has no event), from the index: no event is read. */
  clockOf(entity: string | Coordinate): number {
    return this.live().clockOf(entity instanceof Coordinate ? entity.entity : validateName('entity', entity))
  }

  /** Events matching the region or DCB query, in global-sequence order (over 4096: read as reached, lazy-events.ts); with options, a lazy walk a page at a time (paging.ts). */
  query<P = unknown>(region: Selection, options?: undefined): StoredEvent<P>[]
  query<P = unknown>(region: Selection, options: QueryOptions): EventPages<P>
  query<P = unknown>(region: Selection, options?: QueryOptions): StoredEvent<P>[] | EventPages<P> {
    if (options !== undefined) return queryPages<P>(this, region, options)
    return readEvents<P>(this, toNativeFilter(region, this.types, 'query'))
  }

  /** @internal Events matching a raw index filter (fromSequence, limit, ...): cursors, projections and causal walks read through it. */
  readFiltered<P = unknown>(filter: NativeFilter): StoredEvent<P>[] {
    return this.eventsFrom<P>(this.live().query(filter))
  }

  /** Every event in a scope, in global-sequence order. */
  byScope<P = unknown>(scope: string): StoredEvent<P>[] {
    return this.query<P>(Region.scope(scope))
  }

  /** Every event of one kind (or type name), in global-sequence order. */
  byFact<P = unknown>(kind: EventKind | string): StoredEvent<P>[] {
    return this.query<P>(Region.all().withFact(kind))
  }

  /** Returns once every event appended so far is synced to disk. */
  sync(): void {
    this.live().sync()
  }

  stats(): StoreStats {
    return storeStats(this.live().stats())
  }

  /** Syncs, seals the active segment and releases the directory. Safe to call twice. */
  close(): void {
    if (!this.handle) return
    // Last writes that need the open store (projection snapshots); a failing one never blocks the close.
    for (const f of this.beforeCloseHooks.splice(0)) {
      try {
        f()
      } catch {
        // each hook reports its own failures
      }
    }
    const h = this.handle
    if (!h) return // a hook above closed it
    this.handle = undefined
    try {
      h.close()
    } finally {
      for (const f of this.closeHooks.splice(0)) f()
    }
  }

  /** @internal Runs `f` at the start of close(), while the store can still be read. */
  onBeforeClose(f: () => void): void {
    this.beforeCloseHooks.push(f)
  }

  /** @internal Runs `f` when the store closes (wakes waiting cursors and subscriptions). */
  onClose(f: () => void): void {
    this.closeHooks.push(f)
  }
}
