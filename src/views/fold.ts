/**
 * One step of a view: inside one state transaction, the next batch of
 * matching events from the view's position, each folded into its keys'
 * states, then the states and the new position written together.
 */
import type { StoredEvent } from '../event.js'
import type { NativeFilter } from '../native/binding.js'
import type { Store } from '../store.js'
import type { StateTx } from './backend.js'
import { type CheckedDefinition, keysOf } from './definition.js'

export interface StepResult {
  /** Events folded in this step. */
  applied: number
  /** The position committed with them. */
  position: bigint
  /** True when the step reached the log's end as it was when the step began. */
  done: boolean
}

/** Thrown inside the transaction (so it aborts): event `index` of the batch made apply, key or init throw. */
export class ApplyFailure {
  constructor(
    readonly from: bigint,
    readonly index: number,
    readonly event: StoredEvent,
    readonly cause: unknown,
  ) {}
}

/**
 * Folds the batch from the committed position. With `upTo`, folds only the
 * first `upTo` events and stops at the next one (the one that failed), so
 * the good events before a failure commit without it.
 */
export function step<S, P>(store: Store, filter: NativeFilter, def: CheckedDefinition<S, P>, tx: StateTx, upTo?: number): StepResult {
  const meta = tx.meta()
  if (!meta) throw new Error('a view step ran before the view was set up')
  // The end first: a short batch then means every event below it was looked at.
  const end = BigInt(store.nativeHandle().nextSequence())
  const events = store.readFiltered<P>({ ...filter, fromSequence: Number(meta.position), limit: def.batchSize })
  const n = upTo ?? events.length
  const states = new Map<string, S | undefined>()
  for (let i = 0; i < n; i++) {
    const e = events[i]!
    try {
      for (const k of keysOf(def.key(e))) {
        let s = states.has(k) ? states.get(k) : (tx.get(k) as S | undefined)
        if (s === undefined) s = def.init(k)
        states.set(k, def.apply(s, e))
      }
    } catch (cause) {
      throw new ApplyFailure(meta.position, i, e as StoredEvent, cause)
    }
  }
  for (const [k, s] of states) {
    if (s === undefined) tx.remove(k)
    else tx.put(k, s)
  }
  let position = meta.position
  let done = false
  if (upTo !== undefined) position = events[upTo]!.globalSequence
  else {
    const tail = events[n - 1]
    if (tail) position = tail.globalSequence + 1n
    if (events.length < def.batchSize) {
      done = true
      if (end > position) position = end
    }
  }
  const last = n > 0 ? events[n - 1]! : undefined
  if (last) tx.setMeta({ ...meta, position, last: { sequence: last.globalSequence, eventId: last.eventId } })
  else if (position !== meta.position) tx.setMeta({ ...meta, position })
  return { applied: n, position, done }
}
