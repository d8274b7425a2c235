/**
 * The aggregate spec as callers write it, checked and laid out for the
 * addon. Every refusal is a typed error thrown before the store is read.
 */
import { InvalidArgumentError, InvalidFieldPathError, InvalidWindowError, UnknownGroupByError, UnknownMeasureError } from '../errors.js'
import type { NativeAggregateSpec } from '../native/binding.js'
import type { Selection } from '../query/selection.js'

/** A duration: milliseconds as a number, or a string such as '250ms', '10s', '5m', '1h', '1d' (also 'us'). */
export type Duration = number | string

export type AggregateWindowSpec = { tumbling: Duration } | { sliding: Duration; step: Duration }

export type AggregateGroupBy = 'type' | 'scope' | 'entityPrefix' | { tag: string }

export type Measure = 'count' | { sum: string } | { avg: string } | { min: string } | { max: string }

export interface AggregateSpec<M extends Record<string, Measure> = Record<string, Measure>> {
  /** Which events: a Region or a DCB Query (default: every event). */
  query?: Selection | undefined
  window: AggregateWindowSpec
  /** 'record' (default): when the store recorded the event; 'event': append's occurredAt, else the record time. */
  time?: 'record' | 'event' | undefined
  groupBy?: AggregateGroupBy | undefined
  measures: M
}

/** One (window, group) cell: [startUs, endUs), its events, and each measure (null: no numeric value seen). */
export type AggregateWindow<M extends Record<string, Measure> = Record<string, Measure>> = {
  startUs: number
  endUs: number
  /** The group (type name, scope, entity prefix or tag); absent without groupBy. */
  group?: string
  /** Events in the cell, whatever the measures. */
  events: number
} & MeasureValues<M>

/** Each measure's value by name: count and sum a number, avg/min/max a number or null (for a spec whose names are not known statically, any key). */
export type MeasureValues<M extends Record<string, Measure>> = string extends keyof M
  ? { [name: string]: unknown }
  : { [K in keyof M]: M[K] extends 'count' ? number : M[K] extends { sum: string } ? number : number | null }

/** Names a window already uses, so no measure may take them. */
const RESERVED = new Set(['startUs', 'endUs', 'group', 'events'])
const OPS = ['sum', 'avg', 'min', 'max'] as const
export type MeasureOp = 'count' | (typeof OPS)[number]
const MAX_PATH_KEYS = 32
const UNITS: Record<string, number> = { us: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6, d: 86400e6 }

export interface PlannedMeasure {
  name: string
  op: MeasureOp
  /** Index into the native spec's fields; -1 for count. */
  field: number
}

export interface AggregatePlan {
  native: NativeAggregateSpec
  measures: PlannedMeasure[]
  grouped: boolean
  byType: boolean
}

/** The duration in µs; `what` names it in the error. */
export function durationUs(what: string, d: unknown): number {
  let us: number
  if (typeof d === 'number') us = d * 1e3
  else if (typeof d === 'string') {
    const m = /^(\d+(?:\.\d+)?)(us|ms|s|m|h|d)$/.exec(d.trim())
    if (!m) throw new InvalidWindowError(`window ${what} '${d}' is not a duration such as '250ms', '10s', '5m', '1h' or '1d'`)
    us = Number(m[1]) * UNITS[m[2]!]!
  } else {
    throw new InvalidWindowError(`window ${what} must be milliseconds or a duration string, got ${typeof d}`)
  }
  if (!Number.isFinite(us) || !Number.isSafeInteger(Math.round(us)) || Math.round(us) <= 0) {
    throw new InvalidWindowError(`window ${what} must be at least 1µs, got ${String(d)}`)
  }
  return Math.round(us)
}

/** A field path 'a.b.c' as its keys. */
export function fieldPath(path: unknown, measure: string): string[] {
  if (typeof path !== 'string') throw new InvalidFieldPathError(`measure '${measure}': a field path must be a string`)
  const keys = path.split('.')
  if (keys.length > MAX_PATH_KEYS || keys.some((k) => k.length === 0)) {
    throw new InvalidFieldPathError(`measure '${measure}': field path '${path}' needs 1..${MAX_PATH_KEYS} non-empty keys separated by '.'`)
  }
  return keys
}

function windowUs(w: unknown): { sizeUs: number; stepUs: number } {
  if (typeof w !== 'object' || w === null) throw new InvalidWindowError('aggregate needs window: { tumbling } or { sliding, step }')
  const o = w as Record<string, unknown>
  if ('tumbling' in o && !('sliding' in o) && !('step' in o)) {
    const sizeUs = durationUs('size', o.tumbling)
    return { sizeUs, stepUs: sizeUs }
  }
  if ('sliding' in o && 'step' in o && !('tumbling' in o)) {
    const sizeUs = durationUs('size', o.sliding)
    const stepUs = durationUs('step', o.step)
    if (stepUs > sizeUs) throw new InvalidWindowError(`window step (${stepUs}µs) must not exceed its size (${sizeUs}µs)`)
    if (sizeUs / stepUs > 10000) throw new InvalidWindowError('a sliding window may overlap at most 10000 others (size / step)')
    return { sizeUs, stepUs }
  }
  throw new InvalidWindowError('window must be { tumbling: size } or { sliding: size, step }')
}

function groupOf(g: unknown): Pick<NativeAggregateSpec, 'group' | 'tagPrefix'> {
  if (g === undefined) return { group: 0 }
  if (g === 'type') return { group: 1 }
  if (g === 'scope') return { group: 2 }
  if (g === 'entityPrefix') return { group: 3 }
  if (typeof g === 'object' && g !== null && Object.keys(g).length === 1 && typeof (g as { tag?: unknown }).tag === 'string') {
    return { group: 4, tagPrefix: (g as { tag: string }).tag }
  }
  throw new UnknownGroupByError(`groupBy must be 'type', 'scope', 'entityPrefix' or { tag: prefix }, got ${JSON.stringify(g)}`)
}

function measuresOf(m: unknown): { measures: PlannedMeasure[]; fields: string[][] } {
  if (typeof m !== 'object' || m === null || Array.isArray(m) || Object.keys(m).length === 0) {
    throw new UnknownMeasureError('aggregate needs measures: { name: "count" | { sum | avg | min | max: "path.to.field" } }')
  }
  const measures: PlannedMeasure[] = []
  const fields: string[][] = []
  const fieldIndex = new Map<string, number>()
  for (const [name, spec] of Object.entries(m)) {
    if (RESERVED.has(name)) throw new InvalidArgumentError(`measure name '${name}' is taken by the window itself`)
    if (spec === 'count') {
      measures.push({ name, op: 'count', field: -1 })
      continue
    }
    const keys = typeof spec === 'object' && spec !== null ? Object.keys(spec) : []
    const op = keys.length === 1 ? OPS.find((o) => o === keys[0]) : undefined
    if (!op) throw new UnknownMeasureError(`measure '${name}' must be 'count' or one of { sum | avg | min | max: path }, got ${JSON.stringify(spec)}`)
    const path = (spec as Record<string, unknown>)[op]
    const parts = fieldPath(path, name)
    let i = fieldIndex.get(path as string)
    if (i === undefined) {
      i = fields.push(parts) - 1
      fieldIndex.set(path as string, i)
    }
    measures.push({ name, op, field: i })
  }
  return { measures, fields }
}

/** Checks the spec and lays it out for the addon; throws a typed error for anything it cannot run. */
export function planAggregate(spec: unknown): AggregatePlan {
  if (typeof spec !== 'object' || spec === null) throw new InvalidArgumentError('aggregate expects a spec object')
  const s = spec as Record<string, unknown>
  const known = new Set(['query', 'window', 'time', 'groupBy', 'measures'])
  for (const k of Object.keys(s)) if (!known.has(k)) throw new InvalidArgumentError(`aggregate spec has an unknown key '${k}'`)
  const { sizeUs, stepUs } = windowUs(s.window)
  if (s.time !== undefined && s.time !== 'record' && s.time !== 'event') {
    throw new InvalidArgumentError(`aggregate time must be 'record' or 'event', got ${JSON.stringify(s.time)}`)
  }
  const group = groupOf(s.groupBy)
  const { measures, fields } = measuresOf(s.measures)
  return {
    native: { sizeUs, stepUs, time: s.time === 'event' ? 1 : 0, ...group, fields },
    measures,
    grouped: group.group !== 0,
    byType: group.group === 1,
  }
}
