/**
 * store.decide(query, projections): the read half of a DCB decision. The
 * matching events are read once and every projection folded over them; the
 * position returned is the last matching event's, which is what appendIf's
 * `after` needs so that the write fails if any event the decision did not
 * see now matches the same query.
 */
import { InvalidArgumentError } from '../errors.js'
import type { StoredEvent } from '../event.js'
import { checkProjection } from '../projection/options.js'
import type { Projection, StateOf } from '../projection/types.js'
import { Store } from '../store.js'
import { type Selection, toNativeFilter } from './selection.js'

type AnyProjection = Projection<any, any>
type Projections = readonly AnyProjection[] | Readonly<Record<string, AnyProjection>>

/** The states of decide's projections: a tuple for an array, a record for a record. */
export type DecisionStates<T> = { -readonly [K in keyof T]: StateOf<T[K]> }

export interface Decision<S> {
  /** Each projection's state, in the shape the projections were given in. */
  states: S
  /** Global sequence of the last event matching the query (null when none): appendIf's `after`. */
  position: bigint | null
  /** How many events matched the query and were read. */
  events: number
}

/** Events read per native call: memory holds one page however many match. */
const PAGE = 4096

declare module '../store.js' {
  interface Store {
    /**
     * Folds several projections over one read of the events matching a
     * Region or a DCB Query (each projection sees only its `kinds`, if it
     * names any). Pass `{ failIfEventsMatch: query, after: position }` to
     * appendIf to write the decision only if no matching event came since.
     */
    decide<const T extends Projections>(query: Selection, projections: T): Decision<DecisionStates<T>>
  }
}

interface Fold {
  p: Projection<unknown, never>
  kinds: Set<number> | undefined
  state: unknown
}

Store.prototype.decide = function <const T extends Projections>(this: Store, query: Selection, projections: T): Decision<DecisionStates<T>> {
  const h = this.nativeHandle()
  const filter = toNativeFilter(query, this.types, 'decide')
  const asArray = Array.isArray(projections)
  // One projection passed bare would read as a record of its fields: say so.
  if (typeof projections !== 'object' || projections === null || typeof (projections as { apply?: unknown }).apply === 'function') {
    throw new InvalidArgumentError('decide expects an array or a record of projections ([p] or { name: p })')
  }
  const entries: [string | number, AnyProjection][] = asArray
    ? (projections as readonly AnyProjection[]).map((p, i) => [i, p])
    : Object.entries(projections as Record<string, AnyProjection>)
  if (entries.length === 0) throw new InvalidArgumentError('decide needs at least one projection')
  const folds: Fold[] = entries.map(([, p]) => ({ p, kinds: checkProjection(p, this.types), state: undefined }))
  for (const f of folds) f.state = f.p.init()

  // One consistent cut: only the events present now, read a page at a time.
  const end = h.nextSequence()
  let from = 0
  let position: bigint | null = null
  let events = 0
  for (;;) {
    const page: StoredEvent[] = this.eventsFrom(this.nativeHandle().query({ ...filter, fromSequence: from, beforeSequence: end, limit: PAGE }))
    for (const e of page) {
      for (const f of folds) if (!f.kinds || f.kinds.has(e.kind.value)) f.state = f.p.apply(f.state, e as StoredEvent<never>)
    }
    events += page.length
    const last = page[page.length - 1]
    if (last) position = last.globalSequence
    if (page.length < PAGE || !last) break
    from = Number(last.globalSequence) + 1
  }

  let states: unknown
  if (asArray) states = folds.map((f) => f.state)
  else states = Object.fromEntries(entries.map(([k], i) => [k, folds[i]!.state]))
  return { states: states as DecisionStates<T>, position, events }
}
