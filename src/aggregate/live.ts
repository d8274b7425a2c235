/**
 * aggregateLive: the windowed aggregation over events as they are
 * appended. Each round runs the native aggregation over the events
 * published since the last (a sequence range), merges those cells into the
 * open windows, and emits the windows that have closed, oldest first.
 *
 * When a window closes: once an event lands in a window starting at or
 * after its end (the newest window start seen is the watermark; with event
 * time, less `latenessMs`). With record time, also once the wall clock is
 * `idleCloseMs` past its end, since record times never go back: a store
 * that falls quiet still emits its last window.
 */
import { InvalidArgumentError } from '../errors.js'
import { Notifier } from '../delivery/notifier.js'
import type { Store } from '../store.js'
import { type Cell, byWindow, cellKey, mergeCell, windowOf } from './cells.js'
import { filterOf, runPlan } from './run.js'
import { type AggregateSpec, type AggregateWindow, type Measure, planAggregate } from './spec.js'

export interface AggregateLiveOptions {
  /** First global sequence to aggregate (default: the store's next one, so only events appended from now on). */
  fromSequence?: bigint
  /** Record time: close a window this many ms after its end by the wall clock when no later event came (default 250). */
  idleCloseMs?: number
  /** Event time: keep windows open this many ms behind the newest window start, for late events (default 0). */
  latenessMs?: number
}

export interface AggregateLive {
  /** Stops the loop; windows still open are not emitted. Resolves once it has stopped. */
  close(): Promise<void>
  /** Events that fell into windows already emitted (event time, past the lateness), left out. */
  readonly late: number
  /** Settles when the loop ends: rejects with what stopped it (onWindow threw, the store failed). */
  readonly done: Promise<void>
}

function msOption(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new InvalidArgumentError(`aggregateLive ${name} must be a number of ms >= 0`)
  return v
}

export function aggregateLive<M extends Record<string, Measure>>(
  store: Store,
  spec: AggregateSpec<M>,
  onWindow: (w: AggregateWindow<M>) => void,
  options: AggregateLiveOptions = {},
): AggregateLive {
  const plan = planAggregate(spec)
  const filter = filterOf(store, spec)
  if (typeof onWindow !== 'function') throw new InvalidArgumentError('aggregateLive expects an onWindow function')
  const idleUs = msOption('idleCloseMs', options.idleCloseMs, 250) * 1000
  const latenessUs = msOption('latenessMs', options.latenessMs, 0) * 1000
  const from = options.fromSequence ?? BigInt(store.nativeHandle().nextSequence())
  if (typeof from !== 'bigint' || from < 0n) throw new InvalidArgumentError('aggregateLive fromSequence must be a non-negative bigint')
  const eventTime = plan.native.time === 1
  const sizeUs = plan.native.sizeUs
  const open = new Map<string, Cell>()
  let closedEnd = -Infinity // every window ending at or before this was emitted
  let newestStart = -Infinity
  let late = 0
  let stopped = false
  let cancel!: () => void
  const cancelled = new Promise<void>((r) => (cancel = r))

  const emitUpTo = (endUs: number): void => {
    if (endUs <= closedEnd) return
    closedEnd = endUs
    const ready = [...open.values()].filter((c) => c.startUs + sizeUs <= endUs).sort(byWindow)
    for (const c of ready) open.delete(cellKey(c))
    for (const c of ready) onWindow(windowOf<M>(plan, c))
  }
  const absorb = (cells: Cell[]): void => {
    for (const c of cells) {
      if (c.startUs + sizeUs <= closedEnd) {
        late += c.events
        continue
      }
      newestStart = Math.max(newestStart, c.startUs)
      const had = open.get(cellKey(c))
      if (had) mergeCell(had, c)
      else open.set(cellKey(c), c)
    }
  }
  const oldestEnd = (): number => {
    let e = Infinity
    for (const c of open.values()) e = Math.min(e, c.startUs + sizeUs)
    return e
  }

  const run = async (): Promise<void> => {
    let next = Number(from)
    const notifier = Notifier.of(store)
    while (!stopped && !store.closed) {
      const end = store.nativeHandle().nextSequence()
      if (end > next) {
        // Exactly the events published since the last round, whatever comes meanwhile.
        absorb(runPlan(store, plan, { ...filter, fromSequence: next, beforeSequence: end }))
        next = end
        emitUpTo(eventTime ? newestStart - latenessUs : newestStart)
      }
      let timer: NodeJS.Timeout | undefined
      const waits: Promise<void>[] = [notifier.wait(end, cancelled)]
      if (!eventTime && open.size > 0) {
        const dueMs = Math.max(0, (oldestEnd() + idleUs) / 1000 - Date.now())
        waits.push(new Promise<void>((r) => (timer = setTimeout(r, Math.ceil(dueMs)))))
      }
      await Promise.race(waits)
      if (timer) clearTimeout(timer)
      if (!eventTime && !stopped && !store.closed && store.nativeHandle().nextSequence() === end) emitUpTo(Date.now() * 1000 - idleUs)
    }
  }
  const done = run()
  done.catch(() => {})
  return {
    async close() {
      stopped = true
      cancel()
      await done.catch(() => {})
    },
    get late() {
      return late
    },
    done,
  }
}
