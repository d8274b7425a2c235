// getCausewayEventStore: Emmett's EventStore over a causeway Store. Each Emmett
// stream is a causeway entity in one scope (default "emmett"), each event type
// a named type; an append is one atomic appendBatch whose first item carries
// the expected version as a compare-and-set on the entity's clock.
import { Coordinate } from '../coordinate.js'
import { InvalidArgumentError, SequenceMismatchError } from '../errors.js'
import type { StoreOptions } from '../options.js'
import { Store } from '../store.js'
import type { BatchItem } from '../append-options.js'
import type {
  AggregateStreamOptions,
  AggregateStreamResultWithGlobalPosition,
  AppendToStreamOptions,
  AppendToStreamResultWithGlobalPosition,
  Event,
  EventStore,
  ExpectedStreamVersion,
  ProjectionRegistration,
  ReadEvent,
  ReadEventMetadataWithGlobalPosition,
  ReadStreamOptions,
  ReadStreamResult,
} from '@event-driven-io/emmett'
import { emmett } from './peer.js'
import { encodeBody, streamToEntity, typeName } from './names.js'
import { type CausewayReadEvent, toReadEvent } from './read-event.js'
import { type CausewayConsumer, type CausewayConsumerOptions, causewayEventStoreConsumer } from './consumer.js'

/** What inline projections get as their context. */
export interface CausewayProjectionContext {
  eventStore: CausewayEventStore
  /** The causeway store the events were appended to. */
  store: Store
}

export interface CausewayEventStoreOptions {
  /** An open store the adapter uses and leaves open. One of store and dataDir. */
  store?: Store
  /** A data directory the adapter opens, and closes on close(). */
  dataDir?: string
  /** Further options when the adapter opens the store. */
  storeOptions?: Omit<StoreOptions, 'dataDir'>
  /** The causeway scope of every Emmett stream. @defaultValue 'emmett' */
  scope?: string
  /** Return from appends only once synced to disk. @defaultValue false */
  durable?: boolean
  /** Emmett projections; the inline ones run after each append, before it returns. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  projections?: ProjectionRegistration<'inline' | 'async', ReadEventMetadataWithGlobalPosition, any>[]
  hooks?: {
    /** Emmett's onAfterCommit: called once per successful append with its events; its errors are logged, not thrown. */
    onAfterCommit?: (events: ReadEvent<Event, ReadEventMetadataWithGlobalPosition>[]) => Promise<void> | void
  }
}

export type CausewayEventStore = EventStore<ReadEventMetadataWithGlobalPosition> & {
  aggregateStream<State, EventType extends Event, EventPayloadType extends Event = EventType>(
    streamName: string,
    options: AggregateStreamOptions<State, EventType, ReadEventMetadataWithGlobalPosition, EventPayloadType>,
  ): Promise<AggregateStreamResultWithGlobalPosition<State>>
  appendToStream<EventType extends Event, EventPayloadType extends Event = EventType>(
    streamName: string,
    events: EventType[],
    options?: AppendToStreamOptions<bigint, EventType, EventPayloadType>,
  ): Promise<AppendToStreamResultWithGlobalPosition>
  /** The causeway store under the adapter. */
  readonly store: Store
  /** The scope Emmett's streams live in. */
  readonly scope: string
  /** A consumer for Emmett processors over this store's events (as Emmett's stores offer). */
  consumer(options?: Omit<CausewayConsumerOptions, 'eventStore'>): CausewayConsumer
  /** Closes the store when the adapter opened it (dataDir); otherwise does nothing. */
  close(): Promise<void>
}

const DEFAULT_SCOPE = 'emmett'
const NO_CHECK = 'NO_CONCURRENCY_CHECK'

/** Emmett's EventStore on causeway. */
export function getCausewayEventStore(options: CausewayEventStoreOptions): CausewayEventStore {
  const em = emmett()
  if ((options.store === undefined) === (options.dataDir === undefined)) {
    throw new InvalidArgumentError('getCausewayEventStore needs exactly one of store and dataDir')
  }
  const owned = options.store === undefined
  const store = options.store ?? Store.open({ ...options.storeOptions, dataDir: options.dataDir! })
  const scope = options.scope ?? DEFAULT_SCOPE
  const inline = (options.projections ?? []).filter((p) => p.type === 'inline').map((p) => p.projection)
  const defined = new Set<string>()
  const coord = (streamName: string) => new Coordinate(streamToEntity(streamName), scope)
  const conflict = (current: bigint, expected: ExpectedStreamVersion) => new em.ExpectedVersionConflictError(current, expected)

  const kindName = (type: string) => {
    const t = typeName(type)
    if (!defined.has(t.name)) {
      if (!store.types.has(t.name)) store.types.define(t.name)
      defined.add(t.name)
    }
    return t
  }

  // The clock the first appended event must follow, or undefined: no check.
  const expectedClock = (c: Coordinate, expected: ExpectedStreamVersion): number | undefined => {
    if (expected === undefined || expected === NO_CHECK) return undefined
    if (expected === 'STREAM_DOES_NOT_EXIST') return 0
    if (expected === 'STREAM_EXISTS') {
      const now = store.clockOf(c)
      if (now === 0) throw conflict(0n, expected)
      return now
    }
    const n = typeof expected === 'bigint' ? expected : BigInt(expected as unknown as number)
    if (n < 0n || n > 0xffffffffn) throw conflict(BigInt(store.clockOf(c)), expected)
    return Number(n)
  }

  const eventStore: CausewayEventStore = {
    store,
    scope,

    async readStream<EventType extends Event, EventPayloadType extends Event = EventType>(
      streamName: string,
      read?: ReadStreamOptions<bigint, EventType, EventPayloadType>,
    ): Promise<ReadStreamResult<EventType, ReadEventMetadataWithGlobalPosition>> {
      const c = coord(streamName)
      const current = BigInt(store.clockOf(c))
      if (read?.expectedStreamVersion !== undefined) em.assertExpectedVersionMatchesCurrent(current, read.expectedStreamVersion, 0n)
      const events: CausewayReadEvent[] = []
      if (current > 0n) {
        const from = read?.from === undefined || read.from < 0n ? 0n : BigInt(read.from)
        const to = read?.to === undefined || read.to > current ? current : BigInt(read.to)
        const limit = read?.maxCount === undefined ? undefined : Number(read.maxCount)
        if (to >= from && limit !== 0) {
          const pages = store.stream(c, {
            fromClock: Number(from),
            toClock: Number(to),
            ...(limit === undefined ? {} : { limit }),
          })
          for (const e of pages) events.push(toReadEvent(e, streamName))
        }
      }
      const upcast = read?.schema?.versioning
      // As Emmett's SQLite and PostgreSQL stores (and its aggregateStream test
      // suite) have it: a read cut short by to/maxCount reports the version of
      // the last event it returned, so aggregating `to: n` gives version n.
      const last = events[events.length - 1]
      return {
        currentStreamVersion: last ? last.metadata.streamPosition : current,
        events: (upcast ? em.upcastRecordedMessages(events as never, upcast as never) : events) as never,
        streamExists: current > 0n,
      }
    },

    async aggregateStream<State, EventType extends Event, EventPayloadType extends Event = EventType>(
      streamName: string,
      opts: AggregateStreamOptions<State, EventType, ReadEventMetadataWithGlobalPosition, EventPayloadType>,
    ): Promise<AggregateStreamResultWithGlobalPosition<State>> {
      const { evolve, initialState, read } = opts
      const result = await eventStore.readStream<EventType, EventPayloadType>(streamName, read)
      let state = initialState()
      for (const e of result.events) state = (evolve as (s: State, e: unknown) => State)(state, e)
      const last = result.events[result.events.length - 1]
      if (!result.streamExists) return { currentStreamVersion: result.currentStreamVersion, state, streamExists: false }
      return {
        currentStreamVersion: result.currentStreamVersion,
        state,
        streamExists: true,
        lastEventGlobalPosition: last ? last.metadata.globalPosition : 0n,
      }
    },

    async appendToStream<EventType extends Event, EventPayloadType extends Event = EventType>(
      streamName: string,
      input: EventType[],
      opts?: AppendToStreamOptions<bigint, EventType, EventPayloadType>,
    ): Promise<AppendToStreamResultWithGlobalPosition> {
      const c = coord(streamName)
      const expected = opts?.expectedStreamVersion ?? NO_CHECK
      const downcast = opts?.schema?.versioning?.downcast
      const events = (downcast ? input.map((e) => downcast(e)) : input) as Event[]
      const exp = expectedClock(c, expected)
      if (events.length === 0) {
        const now = BigInt(store.clockOf(c))
        if (exp !== undefined && BigInt(exp) !== now) throw conflict(now, expected)
        return { nextExpectedStreamVersion: now, createdNewStream: false, lastEventGlobalPosition: 0n }
      }
      const items: BatchItem[] = events.map((e, i) => {
        const t = kindName(e.type)
        const meta = 'metadata' in e ? (e as { metadata?: unknown }).metadata : undefined
        const item: BatchItem = { coord: c, kind: t.name, payload: encodeBody(e.type, t.literal, e.data, meta) }
        if (i === 0 && exp !== undefined) item.expectedSequence = exp
        return item
      })
      let receipts
      try {
        receipts = store.appendBatch(items, options.durable ? { durable: true } : undefined)
      } catch (err) {
        if (err instanceof SequenceMismatchError) throw conflict(BigInt(store.clockOf(c)), expected)
        throw err
      }
      const appended: CausewayReadEvent[] = input.map((e, i) => {
        const r = receipts[i]!
        const meta = 'metadata' in e ? ((e as { metadata?: Record<string, unknown> }).metadata ?? {}) : {}
        return {
          type: e.type,
          data: e.data as Record<string, unknown>,
          metadata: { ...meta, messageId: r.eventId, streamName, streamPosition: BigInt(r.clock), globalPosition: r.globalSequence + 1n },
          kind: 'Event',
        }
      })
      if (inline.length > 0) {
        const types = new Set(appended.map((e) => e.type))
        const context: CausewayProjectionContext = { eventStore, store }
        for (const p of inline) if (p.canHandle.some((t) => types.has(t))) await p.handle(appended as never, context as never)
      }
      await em.tryPublishMessagesAfterCommit(appended as never, options.hooks as never)
      const last = receipts[receipts.length - 1]!
      return {
        nextExpectedStreamVersion: BigInt(last.clock),
        createdNewStream: receipts[0]!.clock === 1,
        lastEventGlobalPosition: last.globalSequence + 1n,
      }
    },

    async streamExists(streamName: string): Promise<boolean> {
      return store.clockOf(coord(streamName)) > 0
    },

    consumer(opts?: Omit<CausewayConsumerOptions, 'eventStore'>): CausewayConsumer {
      return causewayEventStoreConsumer({ ...opts, eventStore })
    },

    async close(): Promise<void> {
      if (owned && !store.closed) store.close()
    },
  }
  return eventStore
}
