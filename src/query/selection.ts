/**
 * What query, scan, cursor, subscribe, appendIf and decide select events
 * by: a Region (entity, scope, type, clock, time, tags) or a DCB Query (an
 * OR of type-and-tags items). Both become one native filter.
 */
import { InvalidArgumentError } from '../errors.js'
import type { NativeFilter } from '../native/binding.js'
import { type KindLookup, Region } from '../region.js'
import { Query } from './query.js'

export type Selection = Region | Query

export function isSelection(v: unknown): v is Selection {
  return v instanceof Region || v instanceof Query
}

/** The native filter of a Region or a Query; `method` names the caller in the error for anything else. */
export function toNativeFilter(sel: unknown, types: KindLookup, method: string): NativeFilter {
  if (!isSelection(sel)) throw new InvalidArgumentError(`${method} expects a Region or a Query`)
  return sel.toFilter(types)
}
