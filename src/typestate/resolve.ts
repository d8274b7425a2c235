import { InvalidArgumentError, isCausewayError, UnknownTypeError } from '../errors.js'
import type { EventKind } from '../kind.js'
import type { Store } from '../store.js'
import { type MachineInfo, stepKey } from './machine.js'

/** A machine's transitions with every type name looked up in one store. */
export interface Resolved {
  /** The state each (from, kind value) pair leads to. */
  readonly next: ReadonlyMap<string, string>
  /** The kind values that record a transition; events of other kinds are stepped over. */
  readonly kinds: ReadonlySet<number>
}

// A registry never maps a name to another kind once recorded, so a store's
// resolution holds for as long as the store is open: cache it per store.
// Failures (an undefined name) are not cached: the type may be defined later.
const cache = new WeakMap<MachineInfo, WeakMap<Store, Resolved>>()

/**
 * @internal The machine's transitions by kind value in `store`. A name no
 * type has throws UnknownTypeError; two transitions out of one state that
 * stand for the same kind (a name and a numeric kind, or two names) throw
 * InvalidArgumentError, since a replay could not tell them apart.
 */
export function resolveMachine(store: Store, info: MachineInfo): Resolved {
  let byStore = cache.get(info)
  const had = byStore?.get(store)
  if (had) return had
  const next = new Map<string, string>()
  const owner = new Map<string, string>()
  const kinds = new Set<number>()
  for (const step of info.steps) {
    const kind = kindIn(store, info.name, step.name, step.kind)
    const key = stepKey(step.from, kind.value)
    const other = owner.get(key)
    if (other !== undefined) {
      throw new InvalidArgumentError(
        `machine ${info.name}: transitions ${other} and ${step.name} both leave ${step.from} with kind ${kind}${typeof step.kind === 'string' ? ` (type ${step.kind})` : ''}`,
      )
    }
    owner.set(key, step.name)
    next.set(key, step.to)
    kinds.add(kind.value)
  }
  const resolved: Resolved = { next, kinds }
  if (!byStore) cache.set(info, (byStore = new WeakMap()))
  byStore.set(store, resolved)
  return resolved
}

function kindIn(store: Store, machine: string, transition: string, kind: EventKind | string): EventKind {
  if (typeof kind !== 'string') return kind
  try {
    return store.types.kindOf(kind)
  } catch (e) {
    if (isCausewayError(e, 'E_UNKNOWN_TYPE')) {
      throw new UnknownTypeError(`machine ${machine}: transition ${transition}: ${e.message}`, { type: kind })
    }
    throw e
  }
}
