import { isCausewayError, Region } from '../index.js'
import { UsageError } from './errors.js'
import { kindOfName, parseKind, type TypeLookup } from './kinds.js'

export interface RegionOpts {
  entity?: string
  scope?: string
  kind?: string
}

/** The Region of --entity, --scope and --kind (all ANDed); Region.all() without them. */
export function regionOf(o: RegionOpts): Region {
  try {
    let r = o.entity !== undefined ? Region.entity(o.entity) : o.scope !== undefined ? Region.scope(o.scope) : Region.all()
    if (o.entity !== undefined && o.scope !== undefined) r = r.withScope(o.scope)
    // A number or category:type is a kind; anything else a type name, looked up in the store.
    if (o.kind !== undefined) r = r.withFact(/^[0-9]|^0x/i.test(o.kind.trim()) ? parseKind(o.kind) : o.kind.trim())
    return r
  } catch (e) {
    if (isCausewayError(e)) throw new UsageError(e.message)
    throw e
  }
}

/**
 * A --kind type name the store's registry has not is a usage error (exit 2,
 * naming the types it has), found once the store is open and before
 * anything is read or written, rather than a query's E_UNKNOWN_TYPE.
 */
export function checkKindName(o: RegionOpts, types: TypeLookup): void {
  const k = o.kind?.trim()
  if (k !== undefined && !/^[0-9]/.test(k)) kindOfName(types, k)
}
