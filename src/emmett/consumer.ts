// A consumer running Emmett processors (reactor(), projector()) over the
// adapter's scope through one causeway cursor: it reads a batch, hands it to
// every active processor, and waits on the store's append notification when
// caught up (no polling). Positions are Emmett global positions (causeway
// sequence + 1), kept by the causeway checkpointer unless one is given.
import type {
  AnyMessage,
  Checkpointer,
  CurrentMessageProcessorPosition,
  MessageProcessor,
  ProjectorOptions,
  ReactorOptions,
  ReadEventMetadataWithGlobalPosition,
} from '@event-driven-io/emmett'
import { Cursor } from '../delivery/cursor.js'
import { Notifier } from '../delivery/notifier.js'
import { InvalidArgumentError } from '../errors.js'
import { Region } from '../region.js'
import { causewayCheckpointer } from './checkpointer.js'
import type { CausewayEventStore } from './event-store.js'
import { emmett } from './peer.js'
import { toReadEvent } from './read-event.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Processor = MessageProcessor<AnyMessage, ReadEventMetadataWithGlobalPosition, any, any>
type WithoutCheckpoints<T> = Omit<T, 'checkpoints'> & { checkpoints?: Checkpointer }

export interface CausewayConsumerOptions {
  eventStore: CausewayEventStore
  /** Processors made elsewhere (e.g. with Emmett's reactor()); more can be added with reactor()/projector(). */
  processors?: Processor[]
  /** Events read per batch. @defaultValue 256 */
  batchSize?: number
}

/** What processors get as their handler context. */
export interface CausewayProcessorContext {
  eventStore: CausewayEventStore
  store: CausewayEventStore['store']
}

export interface CausewayConsumer {
  /** Adds Emmett's reactor() with the causeway checkpointer (unless options give one). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  reactor(options: WithoutCheckpoints<ReactorOptions<any, any, any, any>>): Processor
  /** Adds Emmett's projector() with the causeway checkpointer (unless options give one). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  projector(options: WithoutCheckpoints<ProjectorOptions<any, any, any, any>>): Processor
  /** Runs until stop(), the store closing, or every processor stopping; resolves then. */
  start(): Promise<void>
  /** Stops delivery, closes the processors and waits for start() to finish. */
  stop(): Promise<void>
  close(): Promise<void>
  readonly isRunning: boolean
}

/** A consumer of the adapter's events for Emmett processors. */
export function causewayEventStoreConsumer(options: CausewayConsumerOptions): CausewayConsumer {
  const { eventStore } = options
  const store = eventStore.store
  const processors: Processor[] = [...(options.processors ?? [])]
  const batchSize = options.batchSize ?? 256
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidArgumentError('batchSize must be a positive integer')
  const context: CausewayProcessorContext = { eventStore, store }
  let running: Promise<void> | undefined
  let stopping = false
  let wake: (() => void) | undefined
  const stopped = () => new Promise<void>((r) => (wake = r))

  // The causeway sequence a processor starts after (its first unhandled one).
  const fromOf = (pos: CurrentMessageProcessorPosition<bigint> | undefined): bigint => {
    if (pos === undefined || pos === 'BEGINNING') return 0n
    if (pos === 'END') return BigInt(store.nativeHandle().nextSequence())
    return pos.lastCheckpoint // Emmett global position = sequence + 1: the next sequence to read
  }

  const run = async (): Promise<void> => {
    const active = new Map<Processor, bigint>()
    for (const p of processors) active.set(p, fromOf((await p.start(context as never)) as never))
    if (active.size === 0) return
    const from = [...active.values()].reduce((a, b) => (b < a ? b : a))
    const cursor = new Cursor(store, Region.scope(eventStore.scope), { from, batchSize })
    const notifier = Notifier.of(store)
    try {
      while (!stopping && !store.closed && active.size > 0) {
        const seen = store.nativeHandle().nextSequence()
        const batch = cursor.pollBatch(batchSize)
        if (batch.length === 0) {
          await notifier.wait(seen, stopped())
          continue
        }
        const events = batch.map((e) => ({ seq: e.globalSequence, event: toReadEvent(e) }))
        for (const [p, start] of active) {
          const mine = events.filter((e) => e.seq >= start).map((e) => e.event)
          if (mine.length === 0) continue
          const result = await p.handle(mine as never, context as never)
          if ((result && result.type === 'STOP') || !p.isActive) active.delete(p)
          if (stopping) break
        }
      }
    } finally {
      cursor.close()
      for (const p of processors) await p.close(context as never)
    }
  }

  const withCheckpoints = <T extends { checkpoints?: Checkpointer }>(o: T): T & { checkpoints: Checkpointer } => ({
    ...o,
    checkpoints: o.checkpoints ?? causewayCheckpointer(store),
  })

  return {
    reactor(o) {
      const p = emmett().reactor(withCheckpoints(o) as never) as unknown as Processor
      processors.push(p)
      return p
    },
    projector(o) {
      const p = emmett().projector(withCheckpoints(o) as never) as unknown as Processor
      processors.push(p)
      return p
    },
    start() {
      if (running) return running
      stopping = false
      running = run().finally(() => {
        running = undefined
      })
      return running
    },
    async stop() {
      stopping = true
      wake?.()
      await running
    },
    close() {
      return this.stop()
    },
    get isRunning() {
      return running !== undefined
    },
  }
}
