import { Coordinate, validateName } from '../coordinate.js'
import type { StoredEvent } from '../event.js'
import type { NativeFilter } from '../native/binding.js'
import type { Store } from '../store.js'
import { cacheGet, cacheKey, cachePut, projectionKey } from './cache.js'
import { snapshotsOf } from './persist-hook.js'
import { checkProjection, normalizeProjectOptions } from './options.js'
import type { AsOf, ProjectOptions, Projection, ProjectionResult } from './types.js'

type AnyProjection = Projection<unknown, never>

/** One projection's progress through a call. */
interface Plan {
  p: AnyProjection
  kinds: Set<number> | undefined
  key: string
  state: unknown
  position: bigint | null
  /** Events at or below this sequence are already in `state`. */
  scanned: bigint | null
  applied: number
  cacheHit: boolean
  reads: boolean
  /** Id of the event at `scanned`, when known. */
  eventId: string | undefined
  /** The compaction epoch the state's fold began under. */
  epoch: number | undefined
}

function filterFor(entity: string, plans: readonly Plan[], asOf: AsOf | undefined): NativeFilter {
  const f: NativeFilter = { entity, exactEntity: true }
  const reading = plans.filter((p) => p.reads)
  if (reading.every((p) => p.scanned !== null)) {
    f.fromSequence = Number(reading.reduce((m, p) => (p.scanned! < m ? p.scanned! : m), reading[0]!.scanned!) + 1n)
  }
  // Let the index filter by kind when every projection reading wants the same single kind.
  const only = reading[0]?.kinds
  if (only?.size === 1 && reading.every((p) => p.kinds?.size === 1 && p.kinds.has([...only][0]!))) f.kind = [...only][0]!
  if (asOf && 'timestampMs' in asOf) {
    f.timeFromUs = 0
    f.timeToUs = Math.floor(asOf.timestampMs * 1000 + 999)
  }
  return f
}

function fold(plans: readonly Plan[], events: readonly StoredEvent[], asOf: AsOf | undefined): void {
  const until = asOf && 'sequence' in asOf ? asOf.sequence : undefined
  let last: bigint | null = null
  let lastEvent: StoredEvent | undefined
  for (const e of events) {
    const seq = e.globalSequence
    if (until !== undefined && seq > until) break
    last = seq
    lastEvent = e
    for (const p of plans) {
      if (!p.reads || (p.scanned !== null && seq <= p.scanned)) continue
      if (p.kinds && !p.kinds.has(e.kind.value)) continue
      p.state = p.p.apply(p.state, e as StoredEvent<never>)
      p.position = seq
      p.applied++
    }
  }
  if (last === null) return
  const id = lastEvent!.eventId
  for (const p of plans) {
    if (p.reads && (p.scanned === null || p.scanned < last)) {
      p.scanned = last
      p.eventId = id
    }
  }
}

/** Folds every projection over one read of the entity's events; the work behind project and projectMany. */
export function projectAll(
  store: Store,
  entityOrCoord: string | Coordinate,
  projections: readonly AnyProjection[],
  options: ProjectOptions | undefined,
): ProjectionResult<unknown>[] {
  const entity = entityOrCoord instanceof Coordinate ? entityOrCoord.entity : validateName('entity', entityOrCoord)
  const { maxStaleMs, asOf } = normalizeProjectOptions(options)
  const now = Date.now()
  const persisted = asOf ? undefined : snapshotsOf(store)
  const plans: Plan[] = projections.map((p) => {
    const kinds = checkProjection(p, store.types)
    const kindList = kinds && [...kinds]
    const key = cacheKey(entity, p.name, p.version, kindList)
    let hit = asOf ? undefined : cacheGet(store, key)
    if (!hit && persisted) hit = persisted.lookup(projectionKey(p.name, p.version, kindList), p.name, p.version, kindList, entity)
    const fresh = hit !== undefined && maxStaleMs !== undefined && now - hit.at <= maxStaleMs
    return {
      p,
      kinds,
      key,
      state: hit ? hit.state : p.init(),
      position: hit ? hit.position : null,
      scanned: hit ? hit.scanned : null,
      applied: 0,
      cacheHit: hit !== undefined,
      reads: !fresh,
      eventId: hit?.eventId,
      // A fold from init() begins under the epoch as last read: stale at worst, never too new.
      epoch: hit ? hit.epoch : persisted?.epoch,
    }
  })
  if (plans.some((p) => p.reads)) fold(plans, store.readFiltered(filterFor(entity, plans, asOf)), asOf)
  return plans.map((p) => {
    if (!asOf && p.reads) {
      cachePut(store, p.key, { state: p.state, position: p.position, scanned: p.scanned, at: now, eventId: p.eventId, epoch: p.epoch })
      if (persisted && p.applied > 0) {
        const kinds = p.kinds && [...p.kinds]
        persisted.applied(projectionKey(p.p.name, p.p.version, kinds), p.p.name, p.p.version, kinds, p.applied)
      }
    }
    return { state: p.state, position: p.position, eventsApplied: p.applied, cacheHit: p.cacheHit }
  })
}
