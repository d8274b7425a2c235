/**
 * Where a view keeps its states and its position. Both change only inside
 * `transaction`, which commits every write and the new position together
 * or, when its function throws, nothing: a view is never between two events.
 */

/** What a view records about itself beside its states. */
export interface ViewMeta {
  /** The next global sequence to look at: every event below it is folded in. */
  position: bigint
  version: number
  /** The query's text form: the same version over another query is refused. */
  query: string
  /** The last event folded in, checked at open: a log that lost or changed it since makes the view fold again. */
  last?: { sequence: bigint; eventId: string }
}

/** Reads and writes inside one transaction. */
export interface StateTx {
  get(key: string): unknown
  put(key: string, state: unknown): void
  remove(key: string): void
  meta(): ViewMeta | undefined
  setMeta(meta: ViewMeta): void
  /** Removes every state (a rebuild), in this transaction. */
  clear(): void
}

export interface StateBackend {
  /** Runs `f` atomically, serialised against every other writer of this view (other processes included). */
  transaction<T>(f: (tx: StateTx) => T): T
  /** The committed state of `key` (a copy: changing it changes nothing), or undefined. */
  get(key: string): unknown
  /** Committed [key, state] pairs in key order. */
  entries(): IterableIterator<[string, unknown]>
  /** How many keys hold a state. */
  size(): number
  /** The committed meta, or undefined for a new view. */
  meta(): ViewMeta | undefined
  close(): void
}

/**
 * States in a Map, lost on close: for small views folded again at every
 * open. A transaction writes into a side table merged on success, and
 * reads hand out copies (structuredClone), so an apply that changes its
 * state in place and then throws leaves nothing behind.
 */
export class MemoryBackend implements StateBackend {
  private readonly states = new Map<string, unknown>()
  private current: ViewMeta | undefined

  transaction<T>(f: (tx: StateTx) => T): T {
    const writes = new Map<string, unknown>()
    const REMOVED = writes // a sentinel no state can be
    let cleared = false
    let meta = this.current
    const tx: StateTx = {
      get: (k) => {
        const w = writes.get(k)
        if (w !== undefined) return w === REMOVED ? undefined : w
        return cleared ? undefined : structuredClone(this.states.get(k))
      },
      put: (k, s) => void writes.set(k, s),
      remove: (k) => void writes.set(k, REMOVED),
      meta: () => meta,
      setMeta: (m) => void (meta = m),
      clear: () => {
        cleared = true
        writes.clear()
      },
    }
    const out = f(tx)
    if (cleared) this.states.clear()
    for (const [k, s] of writes) {
      if (s === REMOVED) this.states.delete(k)
      else this.states.set(k, s) // apply's own result: later reads hand out copies of it
    }
    this.current = meta
    return out
  }

  get(key: string): unknown {
    return structuredClone(this.states.get(key))
  }

  *entries(): IterableIterator<[string, unknown]> {
    for (const k of [...this.states.keys()].sort()) yield [k, structuredClone(this.states.get(k))]
  }

  size(): number {
    return this.states.size
  }

  meta(): ViewMeta | undefined {
    return this.current
  }

  close(): void {
    this.states.clear()
  }
}
