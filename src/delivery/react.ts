import { InvalidArgumentError } from '../errors.js'
import type { StoredEvent } from '../event.js'
import type { Selection } from '../query/selection.js'
import type { BatchItem, Store } from '../store.js'
import { checkOptions, optionKeys } from '../strict.js'
import { Cursor } from './cursor.js'

/** What a reactor returns per source event: the events to append as its reactions. */
export type Reaction = Pick<BatchItem, 'coord' | 'kind' | 'payload'>
export const REACTION_KEYS = optionKeys<Reaction>()(['coord', 'kind', 'payload'])

export type Reactor<P = unknown> = (event: StoredEvent<P>) => Reaction[] | Promise<Reaction[]>

export interface ReactLoopOptions {
  /** Resume from (and save to) this checkpoint name. */
  checkpoint?: string
  /** Start here when there is no checkpoint. @defaultValue 0n */
  from?: bigint
}

export const REACT_LOOP_OPTION_KEYS = optionKeys<ReactLoopOptions>()(['checkpoint', 'from'])

export interface ReactLoop {
  /** Stops after the event in hand; resolves when the loop has ended. */
  stop(): Promise<void>
  /** Settles when the loop ends: resolved on stop or close, rejected with the reactor's error. */
  readonly done: Promise<void>
}

/**
 * Runs `reactor` for every event of the region, on a cursor (at-least-once,
 * resumable with a checkpoint). The reactions of one source event are
 * appended as one atomic batch with the source's correlation id and the
 * source as causation. Each reaction carries an idempotency key made of the
 * source event id and its index, so an event delivered again after a crash
 * appends nothing twice.
 */
export function reactLoop<P = unknown>(store: Store, region: Selection, reactor: Reactor<P>, options: ReactLoopOptions = {}): ReactLoop {
  if (typeof reactor !== 'function') throw new InvalidArgumentError('reactLoop expects a reactor function')
  checkOptions('reactLoop', options, REACT_LOOP_OPTION_KEYS)
  const cursorOptions: { checkpoint?: string; from?: bigint } = {}
  if (options.checkpoint !== undefined) cursorOptions.checkpoint = options.checkpoint
  if (options.from !== undefined) cursorOptions.from = options.from
  const cursor = new Cursor<P>(store, region, cursorOptions)
  let stopping = false
  const done = (async () => {
    for await (const event of cursor) {
      const reactions = await reactor(event)
      if (!Array.isArray(reactions)) throw new InvalidArgumentError('a reactor must return an array of reactions')
      // A reaction carries only these; any other key (an idempotencyKey, say) would be dropped.
      for (let i = 0; i < reactions.length; i++) checkOptions(`reaction ${i}`, reactions[i], REACTION_KEYS)
      if (reactions.length > 0) {
        store.appendBatch(
          reactions.map((r, i) => ({
            coord: r.coord,
            kind: r.kind,
            payload: r.payload,
            correlationId: event.correlationId,
            causation: event.eventId,
            idempotencyKey: `react:${event.eventId}:${i}`,
          })),
        )
      }
      if (stopping) break
    }
    if (!store.closed) cursor.commit()
  })()
  return {
    done,
    stop() {
      stopping = true
      cursor.close()
      return done.catch(() => undefined)
    },
  }
}
