import { InvalidArgumentError } from '../errors.js'
import type { StoredEvent } from '../event.js'
import { parseUuid } from '../ids.js'
import { Store } from '../store.js'
import { checkOptions, optionKeys } from '../strict.js'

export interface CausalGraphOptions {
  /** 'causes': walk causation upward; 'effects': downward; 'both'. @defaultValue 'both' */
  direction?: 'causes' | 'effects' | 'both'
  /** Hops from the starting event. @defaultValue 64 */
  maxDepth?: number
  /** The most events the graph holds (the starting event included); past it the walk stops and says so. @defaultValue 100000 */
  maxNodes?: number
}

export const CAUSAL_GRAPH_OPTION_KEYS = optionKeys<CausalGraphOptions>()(['direction', 'maxDepth', 'maxNodes'])
/** causalGraph's default bound on the events it gathers: one event's graph never takes the whole log into memory. */
export const DEFAULT_CAUSAL_MAX_NODES = 100_000

export interface CausalEdge {
  /** The causing event. */
  cause: string
  /** The event it caused. */
  effect: string
}

export interface CausalGraph {
  root: string
  /** Events in the graph, in global-sequence order. */
  nodes: StoredEvent[]
  edges: CausalEdge[]
  /** True when maxDepth or maxNodes cut the walk short. */
  truncated: boolean
}

function idBytes(what: string, id: string): Uint8Array {
  const b = new Uint8Array(16)
  parseUuid(what, id, b, 0)
  return b
}

declare module '../store.js' {
  interface Store {
    /** The causation DAG around an event, across entities. Effects come from an index, not a scan. */
    causalGraph(eventId: string, options?: CausalGraphOptions): CausalGraph
    /** Every event of one correlation group (the root included), in global order. */
    byCorrelation(correlationId: string): StoredEvent[]
    /** The events whose causation is this event, in global order. */
    effectsOf(eventId: string): StoredEvent[]
  }
}

Store.prototype.byCorrelation = function (this: Store, correlationId: string): StoredEvent[] {
  return this.eventsFrom(this.nativeHandle().byCorrelation(idBytes('correlationId', correlationId)))
}

Store.prototype.effectsOf = function (this: Store, eventId: string): StoredEvent[] {
  return this.eventsFrom(this.nativeHandle().effects(idBytes('eventId', eventId)))
}

Store.prototype.causalGraph = function (this: Store, eventId: string, options: CausalGraphOptions = {}): CausalGraph {
  checkOptions('causalGraph', options, CAUSAL_GRAPH_OPTION_KEYS)
  const direction = options.direction ?? 'both'
  if (direction !== 'causes' && direction !== 'effects' && direction !== 'both') {
    throw new InvalidArgumentError(`direction must be 'causes', 'effects' or 'both', got ${String(direction)}`)
  }
  const maxDepth = options.maxDepth ?? 64
  if (!Number.isInteger(maxDepth) || maxDepth < 0) throw new InvalidArgumentError('maxDepth must be a non-negative integer')
  const maxNodes = options.maxNodes ?? DEFAULT_CAUSAL_MAX_NODES
  if (!Number.isInteger(maxNodes) || maxNodes < 1) throw new InvalidArgumentError('maxNodes must be a positive integer')
  const root = this.get(eventId)
  if (!root) throw new InvalidArgumentError(`no event with id ${eventId}`)
  const nodes = new Map<string, StoredEvent>([[root.eventId, root]])
  const edges = new Map<string, CausalEdge>()
  let truncated = false
  const addEdge = (cause: string, effect: string) => edges.set(`${cause}>${effect}`, { cause, effect })

  if (direction !== 'effects') {
    let frontier: StoredEvent[] = [root]
    for (let depth = 0; frontier.length > 0; depth++) {
      const next: StoredEvent[] = []
      for (const e of frontier) {
        const c = e.causationId
        if (!c) continue
        if (depth >= maxDepth) {
          truncated = true
          continue
        }
        if (nodes.has(c)) {
          addEdge(c, e.eventId)
          continue
        }
        if (nodes.size >= maxNodes) {
          truncated = true
          continue
        }
        addEdge(c, e.eventId)
        const cause = this.get(c)
        if (!cause) continue // caused by an event outside the store (or dropped by retention)
        nodes.set(c, cause)
        next.push(cause)
      }
      frontier = next
    }
  }
  if (direction !== 'causes') {
    let frontier: StoredEvent[] = [root]
    for (let depth = 0; frontier.length > 0; depth++) {
      const next: StoredEvent[] = []
      for (const e of frontier) {
        const effects = this.effectsOf(e.eventId)
        if (effects.length > 0 && depth >= maxDepth) {
          truncated = true
          continue
        }
        for (const f of effects) {
          if (!nodes.has(f.eventId)) {
            if (nodes.size >= maxNodes) {
              truncated = true
              break
            }
            nodes.set(f.eventId, f)
            next.push(f)
          }
          addEdge(e.eventId, f.eventId)
        }
      }
      frontier = next
    }
  }
  const sorted = [...nodes.values()].sort((a, b) => (a.globalSequence < b.globalSequence ? -1 : 1))
  return { root: root.eventId, nodes: sorted, edges: [...edges.values()], truncated }
}
