// The reference for store.aggregate: the same windows folded in JS over
// scan(), event by event, from decoded payloads. Tests compare the two.
import { type AggregateSpec, type AggregateWindow, Query, type Store } from '../src/index.js'

const UNITS: Record<string, number> = { us: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6, d: 86400e6 }
function us(d: number | string): number {
  if (typeof d === 'number') return d * 1000
  const m = /^(\d+(?:\.\d+)?)(us|ms|s|m|h|d)$/.exec(d)!
  return Math.round(Number(m[1]) * UNITS[m[2]!]!)
}

function numberAt(payload: unknown, path: string): number | undefined {
  let v: unknown = payload
  for (const k of path.split('.')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array || v instanceof Date) return undefined
    if (!Object.prototype.hasOwnProperty.call(v, k)) return undefined
    v = (v as Record<string, unknown>)[k]
  }
  return typeof v === 'number' ? v : undefined
}

interface Acc {
  startUs: number
  group: string | undefined
  events: number
  fields: Map<string, { n: number; sum: number; min: number; max: number }>
}

export function foldOverScan(store: Store, spec: AggregateSpec): AggregateWindow[] {
  const w = spec.window as { tumbling?: number | string; sliding?: number | string; step?: number | string }
  const size = us(w.tumbling ?? w.sliding!)
  const step = w.step === undefined ? size : us(w.step)
  const paths = [...new Set(Object.values(spec.measures).flatMap((m) => (m === 'count' ? [] : [Object.values(m)[0] as string])))]
  const cells = new Map<string, Acc>()
  for (const batch of store.scan(spec.query ?? Query.all())) {
    for (let i = 0; i < batch.length; i++) {
      const e = batch.event(i)
      const t = spec.time === 'event' ? e.occurredAtUs : e.timestampUs
      const g = spec.groupBy
      let groups: (string | undefined)[]
      if (g === undefined) groups = [undefined]
      else if (g === 'type') groups = [e.type ?? `kind:${e.kind.value}`]
      else if (g === 'scope') groups = [e.coordinate.scope]
      else if (g === 'entityPrefix') groups = [e.coordinate.entity.split(':')[0]!]
      else groups = e.tags.filter((x) => x.startsWith(g.tag))
      const values = paths.map((p) => numberAt(e.payload, p))
      const hi = Math.floor(t / step)
      const lo = Math.floor((t - size) / step) + 1
      for (let k = lo; k <= hi; k++) {
        for (const group of groups) {
          const key = `${k * step}|${group ?? ''}`
          let c = cells.get(key)
          if (!c) cells.set(key, (c = { startUs: k * step, group, events: 0, fields: new Map() }))
          const cell = c
          cell.events++
          paths.forEach((p, j) => {
            const v = values[j]
            if (v === undefined) return
            const f = cell.fields.get(p) ?? { n: 0, sum: 0, min: Infinity, max: -Infinity }
            f.n++
            f.sum += v
            f.min = Math.min(f.min, v)
            f.max = Math.max(f.max, v)
            cell.fields.set(p, f)
          })
        }
      }
    }
  }
  const out = [...cells.values()].sort((a, b) => a.startUs - b.startUs || ((a.group ?? '') < (b.group ?? '') ? -1 : (a.group ?? '') > (b.group ?? '') ? 1 : 0))
  return out.map((c) => {
    const r: Record<string, unknown> = { startUs: c.startUs, endUs: c.startUs + size }
    if (c.group !== undefined) r.group = c.group
    r.events = c.events
    for (const [name, m] of Object.entries(spec.measures)) {
      if (m === 'count') {
        r[name] = c.events
        continue
      }
      const [op, path] = Object.entries(m)[0] as [string, string]
      const f = c.fields.get(path)
      if (op === 'sum') r[name] = f?.sum ?? 0
      else if (!f) r[name] = null
      else r[name] = op === 'avg' ? f.sum / f.n : op === 'min' ? f.min : f.max
    }
    return r as AggregateWindow
  })
}
