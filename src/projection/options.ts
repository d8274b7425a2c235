import { InvalidArgumentError } from '../errors.js'
import { EventKind } from '../kind.js'
import type { KindLookup } from '../region.js'
import { checkOptions, optionKeys } from '../strict.js'
import type { AsOf, Freshness, ProjectOptions, Projection } from './types.js'

export const PROJECT_OPTION_KEYS = optionKeys<ProjectOptions>()(['freshness', 'asOf'])
const FRESHNESS_KEYS = optionKeys<Exclude<Freshness, string>>()(['maxStaleMs'])

/** ProjectOptions checked once at the entry point. */
export interface NormalizedProjectOptions {
  maxStaleMs: number | undefined
  asOf: AsOf | undefined
}

function checkFreshness(f: Freshness | undefined): number | undefined {
  if (f === undefined || f === 'consistent') return undefined
  if (typeof f === 'object' && f !== null) checkOptions('project freshness', f, FRESHNESS_KEYS)
  if (typeof f === 'object' && f !== null && typeof f.maxStaleMs === 'number' && f.maxStaleMs >= 0 && !Number.isNaN(f.maxStaleMs)) {
    return f.maxStaleMs
  }
  throw new InvalidArgumentError("freshness must be 'consistent' or { maxStaleMs: a number >= 0 }")
}

function checkAsOf(a: AsOf | undefined): AsOf | undefined {
  if (a === undefined) return undefined
  if (typeof a === 'object' && a !== null) {
    // One point in time: { sequence } or { timestampMs }, nothing else beside it.
    checkOptions('project asOf', a, 'sequence' in a ? ['sequence'] : ['timestampMs'])
    if ('sequence' in a && typeof a.sequence === 'bigint' && a.sequence >= 0n) return { sequence: a.sequence }
    if ('timestampMs' in a && typeof a.timestampMs === 'number' && Number.isFinite(a.timestampMs)) return { timestampMs: a.timestampMs }
  }
  throw new InvalidArgumentError('asOf must be { sequence: a bigint >= 0n } or { timestampMs: a finite number }')
}

export function normalizeProjectOptions(o: ProjectOptions | undefined): NormalizedProjectOptions {
  if (o === undefined) return { maxStaleMs: undefined, asOf: undefined }
  if (typeof o !== 'object' || o === null) throw new InvalidArgumentError('project options must be an object')
  checkOptions('project', o, PROJECT_OPTION_KEYS)
  const maxStaleMs = checkFreshness(o.freshness)
  const asOf = checkAsOf(o.asOf)
  if (asOf && maxStaleMs !== undefined) throw new InvalidArgumentError('asOf reads the past exactly; it cannot be combined with maxStaleMs')
  return { maxStaleMs, asOf }
}

/** Checks a projection's shape; returns its kind filter as a set of kind values, or undefined for every kind. */
export function checkProjection(p: Projection<unknown, never>, types: KindLookup): Set<number> | undefined {
  if (typeof p !== 'object' || p === null) throw new InvalidArgumentError('a projection must be an object')
  if (typeof p.name !== 'string' || p.name.length === 0) throw new InvalidArgumentError('projection name must be a non-empty string')
  if (!Number.isSafeInteger(p.version) || p.version < 0) {
    throw new InvalidArgumentError(`projection ${p.name}: version must be an integer >= 0, got ${String(p.version)}`)
  }
  if (typeof p.init !== 'function' || typeof p.apply !== 'function') {
    throw new InvalidArgumentError(`projection ${p.name}: init and apply must be functions`)
  }
  if (p.kinds === undefined) return undefined
  if (!Array.isArray(p.kinds) || !p.kinds.every((k) => k instanceof EventKind || typeof k === 'string')) {
    throw new InvalidArgumentError(`projection ${p.name}: kinds must be an array of EventKind or type names`)
  }
  return new Set(p.kinds.map((k: EventKind | string) => (typeof k === 'string' ? types.kindOf(k) : k).value))
}
