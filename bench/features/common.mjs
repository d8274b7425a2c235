// What every group of bench/features.bench.mjs shares: the built package,
// the configuration, the workload's coordinates and kinds, the log, the
// problems found and the raw figures.
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  config,
  ENTITIES,
  entityNames,
  gc,
  kindTypeOf,
  payloads,
  scopeNames,
  scopeOf,
} from '../lib/workload.mjs'

export const { Store, Coordinate, EventKind, Region } = await import('../../dist/esm/index.mjs')

export const libDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'lib')
export const N = config.events
export const D = config.durableEvents
export const RUNS = config.runs
export const POOL = config.payloadPool
export const BATCH = config.batch

export const coords = entityNames.map((name, e) => new Coordinate(name, scopeNames[scopeOf(e)]))
export const kinds = [null, 1, 2, 3, 4].map((t) => (t === null ? null : EventKind.custom(1, t)))

export const log = (msg) => process.stderr.write(msg + '\n')
export const problems = [] // anything wrong: missing events, errors, crashes
export const problem = (msg) => {
  problems.push(msg)
  log(`  PROBLEM: ${msg}`)
}
export const raw = {} // everything measured, for BENCH_JSON

export function settle() {
  gc()
  try {
    execFileSync('sync')
  } catch {}
}

/** Appends workload events [from, to) with appendBatch (untimed store building). */
export function fillWorkload(s, from, to) {
  for (let i = from; i < to; i += BATCH) {
    const items = []
    for (let j = i; j < Math.min(to, i + BATCH); j++) items.push({ coord: coords[j % ENTITIES], kind: kinds[kindTypeOf(j)], payload: payloads[j % POOL] })
    s.appendBatch(items)
  }
}
