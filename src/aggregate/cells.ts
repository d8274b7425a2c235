/**
 * The addon's cells as partial aggregates (mergeable, for live windows) and
 * as the windows callers get.
 */
import type { NativeAggregateResult } from '../native/binding.js'
import type { Store } from '../store.js'
import type { AggregatePlan, AggregateWindow, Measure } from './spec.js'

export interface Cell {
  startUs: number
  group: string | undefined
  events: number
  /** Per field: values seen, sum, min, max. */
  stats: number[]
}

export function cellsOf(store: Store, plan: AggregatePlan, r: NativeAggregateResult): Cell[] {
  const nf = plan.native.fields.length
  const names = plan.byType ? r.groups.map((k) => store.typeName(Number(k)) ?? `kind:${k}`) : r.groups
  const out: Cell[] = []
  for (let i = 0; i < r.starts.length; i++) {
    out.push({
      startUs: r.starts[i]!,
      group: plan.grouped ? names[r.cellGroups[i]!] : undefined,
      events: r.counts[i]!,
      stats: Array.from(r.stats.subarray(i * 4 * nf, (i + 1) * 4 * nf)),
    })
  }
  return out
}

/** Adds b's events and values into a (same window and group). */
export function mergeCell(a: Cell, b: Cell): void {
  a.events += b.events
  for (let i = 0; i < a.stats.length; i += 4) {
    a.stats[i]! += b.stats[i]!
    a.stats[i + 1]! += b.stats[i + 1]!
    a.stats[i + 2] = Math.min(a.stats[i + 2]!, b.stats[i + 2]!)
    a.stats[i + 3] = Math.max(a.stats[i + 3]!, b.stats[i + 3]!)
  }
}

export function cellKey(c: Cell): string {
  return c.group === undefined ? String(c.startUs) : `${c.startUs}\u0000${c.group}`
}

/** Window start, then group, as strings compare. */
export function byWindow(a: Cell, b: Cell): number {
  if (a.startUs !== b.startUs) return a.startUs - b.startUs
  const x = a.group ?? ''
  const y = b.group ?? ''
  return x < y ? -1 : x > y ? 1 : 0
}

export function windowOf<M extends Record<string, Measure>>(plan: AggregatePlan, c: Cell): AggregateWindow<M> {
  const w: Record<string, unknown> = { startUs: c.startUs, endUs: c.startUs + plan.native.sizeUs }
  if (c.group !== undefined) w.group = c.group
  w.events = c.events
  for (const m of plan.measures) {
    if (m.op === 'count') {
      w[m.name] = c.events
      continue
    }
    const n = c.stats[m.field * 4]!
    const sum = c.stats[m.field * 4 + 1]!
    if (m.op === 'sum') w[m.name] = sum
    else if (n === 0) w[m.name] = null
    else if (m.op === 'avg') w[m.name] = sum / n
    else w[m.name] = c.stats[m.field * 4 + (m.op === 'min' ? 2 : 3)]!
  }
  return w as AggregateWindow<M>
}
