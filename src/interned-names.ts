import { Coordinate } from './coordinate.js'
import type { NativeStore } from './native/binding.js'

/**
 * One store's name tables as this process has seen them: entity and scope
 * names to the addon's interned ids, and ids back to one shared Coordinate
 * per (entity, scope), so reading many events of one entity makes one
 * object, not one per event.
 */
export class InternedNames {
  private readonly entityIds = new Map<string, number>()
  private readonly scopeIds = new Map<string, number>()
  private readonly coords = new Map<number, Map<number, Coordinate>>()

  entityId(h: NativeStore, name: string): number {
    let id = this.entityIds.get(name)
    if (id === undefined) {
      id = h.internEntity(name)
      this.entityIds.set(name, id)
    }
    return id
  }

  scopeId(h: NativeStore, name: string): number {
    let id = this.scopeIds.get(name)
    if (id === undefined) {
      id = h.internScope(name)
      this.scopeIds.set(name, id)
    }
    return id
  }

  /** `live` gives the handle on a miss only: cached Coordinates stay readable once the store is closed. */
  coordinate(live: () => NativeStore, entityId: number, scopeId: number): Coordinate {
    let byScope = this.coords.get(entityId)
    if (!byScope) this.coords.set(entityId, (byScope = new Map()))
    let c = byScope.get(scopeId)
    if (!c) {
      const h = live()
      c = new Coordinate(h.entityName(entityId), h.scopeName(scopeId))
      byScope.set(scopeId, c)
    }
    return c
  }
}
