import { InvalidArgumentError } from '../errors.js'
import { checkOptions, optionKeys } from '../strict.js'

/** How projection states are persisted (Store.open's `projectionSnapshots`). */
export interface ProjectionSnapshotOptions {
  /**
   * Write a projection's snapshot file once this many events were applied to
   * its states since the last write (and always at close). @defaultValue 1000
   */
  every?: number
  /**
   * Largest snapshot file per projection (name, version, kinds): the least
   * recently used entities are left out beyond it. @defaultValue 64 MiB
   */
  maxBytes?: number
}

export const PROJECTION_SNAPSHOT_KEYS = optionKeys<ProjectionSnapshotOptions>()(['every', 'maxBytes'])

export interface NormalizedSnapshotOptions {
  every: number
  maxBytes: number
}

function int(what: string, v: unknown, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(`projectionSnapshots.${what} must be an integer ${min}..${max}, got ${String(v)}`)
  }
  return v
}

/** The option checked once at Store.open; undefined when snapshots are off. */
export function checkSnapshotOptions(o: unknown): NormalizedSnapshotOptions | undefined {
  if (o === undefined || o === false) return undefined
  if (o === true) return { every: 1000, maxBytes: 64 * 1024 * 1024 }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw new InvalidArgumentError('projectionSnapshots must be true, false or { every?, maxBytes? }')
  }
  checkOptions('Store.open projectionSnapshots', o, PROJECTION_SNAPSHOT_KEYS)
  const p = o as ProjectionSnapshotOptions
  return { every: int('every', p.every, 1000, 1, 2 ** 31), maxBytes: int('maxBytes', p.maxBytes, 64 * 1024 * 1024, 1024, 2 ** 31) }
}
