import { InvalidArgumentError } from '../errors.js'
import type { StoredEvent } from '../event.js'
import { checkOptions, optionKeys } from '../strict.js'
import { checkSnapshotDest } from './snapshot-dest.js'

/** When background compaction runs: enough sealed segments, or enough of the sealed events rejected by `keep`. */
export type CompactWhen = { sealedSegments: number } | { deadFraction: number }

export interface MaintenanceCompactOptions {
  when: CompactWhen
  strategy: 'merge' | 'retention' | 'tombstone'
  /** Required for retention and tombstone, as for compact(). */
  keep?: (event: StoredEvent) => boolean
}

export interface MaintenanceSnapshotOptions {
  /** Milliseconds between two snapshots. */
  every: number
  /** The directory under which each snapshot gets its own `snapshot-<time>-<sequence>` directory; never inside the data directory. */
  to: string
  /** How many of the newest snapshots stay; older ones are removed. */
  keep: number
}

export interface MaintenanceOptions {
  compact?: MaintenanceCompactOptions
  snapshot?: MaintenanceSnapshotOptions
  /** Milliseconds between two checks of the conditions. @defaultValue 1000 */
  checkEveryMs?: number
}

export const MAINTENANCE_KEYS = optionKeys<MaintenanceOptions>()(['compact', 'snapshot', 'checkEveryMs'])
const COMPACT_KEYS = optionKeys<MaintenanceCompactOptions>()(['when', 'strategy', 'keep'])
const SNAPSHOT_KEYS = optionKeys<MaintenanceSnapshotOptions>()(['every', 'to', 'keep'])

export interface NormalizedMaintenance {
  compact: MaintenanceCompactOptions | undefined
  snapshot: MaintenanceSnapshotOptions | undefined
  checkEveryMs: number
}

function int(what: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(`maintenance.${what} must be an integer ${min}..${max}, got ${String(v)}`)
  }
  return v
}

function obj(what: string, v: unknown): object {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidArgumentError(`maintenance.${what} must be an object`)
  return v
}

function checkWhen(v: unknown, strategy: string): CompactWhen {
  const w = obj('compact.when', v) as Record<string, unknown>
  const keys = Object.keys(w)
  if (keys.length !== 1 || (keys[0] !== 'sealedSegments' && keys[0] !== 'deadFraction')) {
    throw new InvalidArgumentError('maintenance.compact.when must be { sealedSegments } or { deadFraction }, exactly one of them')
  }
  if ('sealedSegments' in w) return { sealedSegments: int('compact.when.sealedSegments', w.sealedSegments, 1, 1_000_000) }
  const f = w.deadFraction
  if (typeof f !== 'number' || !(f > 0 && f <= 1)) throw new InvalidArgumentError(`maintenance.compact.when.deadFraction must be a number in (0, 1], got ${String(f)}`)
  if (strategy === 'merge') throw new InvalidArgumentError("maintenance.compact.when.deadFraction needs the 'retention' or 'tombstone' strategy: merge drops nothing")
  return { deadFraction: f }
}

/** Checks `maintenance` once at Store.open (nothing is written): unknown keys, bad values, a `to` inside the data directory. */
export function checkMaintenance(o: unknown, dataDir: string): NormalizedMaintenance | undefined {
  if (o === undefined) return undefined
  obj('options', o)
  checkOptions('Store.open maintenance', o, MAINTENANCE_KEYS)
  const m = o as MaintenanceOptions
  let compact: MaintenanceCompactOptions | undefined
  if (m.compact !== undefined) {
    obj('compact', m.compact)
    checkOptions('Store.open maintenance.compact', m.compact, COMPACT_KEYS)
    const { strategy, keep } = m.compact
    if (strategy !== 'merge' && strategy !== 'retention' && strategy !== 'tombstone') {
      throw new InvalidArgumentError(`maintenance.compact.strategy must be 'merge', 'retention' or 'tombstone', got ${String(strategy)}`)
    }
    if (strategy !== 'merge' && typeof keep !== 'function') throw new InvalidArgumentError(`maintenance.compact: the ${strategy} strategy needs a keep(event) function`)
    if (keep !== undefined && typeof keep !== 'function') throw new InvalidArgumentError('maintenance.compact.keep must be a function')
    compact = { when: checkWhen(m.compact.when, strategy), strategy, ...(keep ? { keep } : {}) }
  }
  let snapshot: MaintenanceSnapshotOptions | undefined
  if (m.snapshot !== undefined) {
    obj('snapshot', m.snapshot)
    checkOptions('Store.open maintenance.snapshot', m.snapshot, SNAPSHOT_KEYS)
    const every = int('snapshot.every', m.snapshot.every, 1, 2 ** 31 - 1)
    const keep = int('snapshot.keep', m.snapshot.keep, 1, 10_000)
    if (typeof m.snapshot.to !== 'string' || m.snapshot.to.length === 0) throw new InvalidArgumentError('maintenance.snapshot.to must be a directory path')
    snapshot = { every, keep, to: checkSnapshotDest(dataDir, m.snapshot.to) }
  }
  const checkEveryMs = m.checkEveryMs === undefined ? 1000 : int('checkEveryMs', m.checkEveryMs, 10, 3_600_000)
  if (!compact && !snapshot) throw new InvalidArgumentError('maintenance needs compact, snapshot or both')
  return { compact, snapshot, checkEveryMs }
}
