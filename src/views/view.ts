/**
 * A materialised read model over every event a query matches: a state per
 * key, kept in a StateBackend with the view's position. Each step folds a
 * batch and commits its states and position in one transaction, so after a
 * crash the view resumes from what it committed and never folds an event
 * twice; several processes may maintain one view (the backend serialises
 * them, and each step starts from the committed position).
 */
import { InvalidArgumentError, StoreClosedError } from '../errors.js'
import { Notifier } from '../delivery/notifier.js'
import type { NativeFilter } from '../native/binding.js'
import type { Store } from '../store.js'
import { MemoryBackend, type StateBackend, type ViewMeta } from './backend.js'
import { type CheckedDefinition, checkDefinition, checkViewName, type ViewDefinition, viewDir } from './definition.js'
import { ViewApplyError, ViewVersionError } from './errors.js'
import { ApplyFailure, step, type StepResult } from './fold.js'
import { LmdbBackend } from './lmdb-backend.js'

/** A rebuild's progress, reported after each committed batch. */
export interface ViewProgress {
  /** Events folded since the rebuild began. */
  applied: number
  /** The committed position. */
  position: bigint
  /** The log's end when the rebuild began. */
  end: bigint
}

export interface RebuildOptions {
  onProgress?: (p: ViewProgress) => void
}

export interface ViewStatus {
  name: string
  version: number
  storage: 'lmdb' | 'memory'
  /** Every event below this sequence is folded in. */
  position: bigint
  /** The log's next sequence. */
  end: bigint
  /** end - position: sequences not looked at yet (an upper bound on the events still to fold). */
  lag: bigint
  /** Keys holding a state. */
  size: number
  following: boolean
  /** Why the view was emptied when it opened: a higher version, or folded events the log no longer holds. */
  resetOnOpen?: 'version' | 'ahead-of-log'
  /** The last apply failure of this View object, if any; the view waits at `globalSequence`. */
  failure?: { eventId: string; globalSequence: bigint; message: string }
}

export class View<S = unknown, P = unknown> implements Iterable<[string, S]> {
  readonly name: string
  readonly version: number
  private readonly store: Store
  private readonly def: CheckedDefinition<S, P>
  private readonly filter: NativeFilter
  private readonly backend: StateBackend
  private readonly queryText: string
  private closed = false
  private following = false
  private wake: (() => void) | undefined
  private failure: ViewStatus['failure']
  private resetOnOpen: ViewStatus['resetOnOpen']

  /** @internal use store.view() */
  constructor(store: Store, name: string, definition: ViewDefinition<S, P>, load?: (id: string) => unknown) {
    this.name = checkViewName(name)
    this.def = checkDefinition(definition)
    this.version = this.def.version
    this.store = store
    this.filter = this.def.query.toFilter(store.types)
    this.queryText = this.def.query.toString()
    this.backend = this.def.storage === 'memory' ? new MemoryBackend() : new LmdbBackend(viewDir(store.dataDir, name), store.fileMode, load)
    try {
      this.setUp()
    } catch (e) {
      this.backend.close()
      throw e
    }
  }

  /** Checks the stored definition against this one; a new view starts at 0, an older version or a view ahead of the log is emptied. */
  private setUp(): void {
    const fresh = { position: 0n, version: this.version, query: this.queryText }
    this.backend.transaction((tx) => {
      const m = tx.meta()
      if (!m) return tx.setMeta(fresh)
      const details = { view: this.name, storedVersion: m.version, version: this.version }
      if (m.version > this.version) {
        throw new ViewVersionError(`view ${this.name} on disk is version ${m.version}, newer than this definition's ${this.version}`, details)
      }
      if (m.version === this.version && m.query !== this.queryText) {
        throw new ViewVersionError(`view ${this.name} version ${m.version} was built over ${m.query}, not ${this.queryText}: raise the version to rebuild it`, details)
      }
      const ahead = this.aheadOfLog(m)
      if (m.version < this.version || ahead) {
        this.resetOnOpen = ahead ? 'ahead-of-log' : 'version'
        tx.clear()
        tx.setMeta(fresh)
      }
    })
  }

  /**
   * Whether the view holds events the log no longer has: its position is
   * past the log's end, or the last event it folded is gone or another
   * (the log lost an unsynced tail in a power cut, and perhaps took new
   * events at those sequences since; or compaction dropped it).
   */
  private aheadOfLog(m: ViewMeta): boolean {
    if (m.position > BigInt(this.store.nativeHandle().nextSequence())) return true
    if (!m.last) return false
    const found = this.store.readFiltered({ ...this.filter, fromSequence: Number(m.last.sequence), limit: 1 })[0]
    return found?.globalSequence !== m.last.sequence || found.eventId !== m.last.eventId
  }

  private live(): StateBackend {
    if (this.closed) throw new StoreClosedError(`view ${this.name} is closed`)
    if (this.store.closed) throw new StoreClosedError('the store is closed')
    return this.backend
  }

  /** Every event below this global sequence is folded in (committed). */
  get position(): bigint {
    return this.live().meta()!.position
  }

  /** Sequences between the view's position and the log's end. */
  get lag(): bigint {
    const end = BigInt(this.store.nativeHandle().nextSequence())
    const pos = this.position
    return end > pos ? end - pos : 0n
  }

  /** How many keys hold a state. */
  get size(): number {
    return this.live().size()
  }

  /** The committed state of `key` (a fresh copy), or undefined. */
  get(key: string): S | undefined {
    if (typeof key !== 'string') throw new InvalidArgumentError('view.get expects a string key')
    return this.live().get(key) as S | undefined
  }

  has(key: string): boolean {
    return this.get(key) !== undefined
  }

  /** [key, state] pairs in key order. */
  entries(): IterableIterator<[string, S]> {
    return this.live().entries() as IterableIterator<[string, S]>
  }

  [Symbol.iterator](): IterableIterator<[string, S]> {
    return this.entries()
  }

  /** Folds one batch; ViewApplyError when an event fails (its good predecessors commit). */
  private advance(): StepResult {
    const backend = this.live()
    try {
      return backend.transaction((tx) => step(this.store, this.filter, this.def, tx))
    } catch (e) {
      if (!(e instanceof ApplyFailure)) throw e
      return this.commitBefore(backend, e)
    }
  }

  /**
   * The failed transaction wrote nothing: commits the events before the
   * failure (unless another process moved on), then throws ViewApplyError.
   * An apply that fails on an earlier event this time (it is not
   * deterministic) moves the stop there; each try folds fewer events.
   */
  private commitBefore(backend: StateBackend, failure: ApplyFailure): StepResult {
    let e = failure
    let before: StepResult | undefined
    for (;;) {
      try {
        const f = e
        before = backend.transaction((tx) => (tx.meta()!.position === f.from ? step(this.store, this.filter, this.def, tx, f.index) : undefined))
        break
      } catch (again) {
        if (!(again instanceof ApplyFailure)) throw again
        e = again
      }
    }
    if (!before) return { applied: 0, position: this.position, done: false }
    const ev = e.event
    const msg = e.cause instanceof Error ? e.cause.message : String(e.cause)
    this.failure = { eventId: ev.eventId, globalSequence: ev.globalSequence, message: msg }
    throw new ViewApplyError(`view ${this.name}: apply failed on event ${ev.eventId} (sequence ${ev.globalSequence}, ${ev.coordinate}): ${msg}`, {
      view: this.name,
      eventId: ev.eventId,
      globalSequence: ev.globalSequence,
      position: before.position,
      cause: e.cause,
    })
  }

  /** Folds every matching event up to the log's end, now; returns how many were folded. */
  catchUp(): number {
    return this.foldToEnd()
  }

  private foldToEnd(onBatch?: (r: StepResult) => void): number {
    let applied = 0
    for (;;) {
      const r = this.advance()
      applied += r.applied
      onBatch?.(r)
      if (r.done) break
    }
    this.failure = undefined
    return applied
  }

  /** Empties the view and folds the log again from sequence 0, committing batch by batch; `onProgress` after each. */
  rebuild(options: RebuildOptions = {}): { applied: number; position: bigint } {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('rebuild options must be an object')
    for (const k in options) if (k !== 'onProgress') throw new InvalidArgumentError(`rebuild: unknown option '${k}'; accepted: onProgress`, { option: k })
    const { onProgress } = options
    if (onProgress !== undefined && typeof onProgress !== 'function') throw new InvalidArgumentError('rebuild: onProgress must be a function')
    const end = BigInt(this.store.nativeHandle().nextSequence())
    this.live().transaction((tx) => {
      tx.clear()
      tx.setMeta({ position: 0n, version: this.version, query: this.queryText })
    })
    let applied = 0
    this.foldToEnd((r) => {
      applied += r.applied
      onProgress?.({ applied, position: r.position, end })
    })
    return { applied, position: this.position }
  }

  /**
   * Keeps the view up to date in the background, woken by appends from any
   * process, until close() or the store closes. Rejects with ViewApplyError
   * when an event fails: the view then waits at that event.
   */
  async follow(): Promise<void> {
    this.live()
    if (this.following) throw new InvalidArgumentError(`view ${this.name} is already following`)
    this.following = true
    const notifier = Notifier.of(this.store)
    try {
      while (!this.closed && !this.store.closed) {
        // One batch per turn, so a long backlog never holds the event loop.
        const r = this.advance()
        if (!r.done) {
          await new Promise((r) => setImmediate(r))
          continue
        }
        // The position read inside the write transaction: a read outside it may be an older snapshot.
        await notifier.wait(Number(r.position), new Promise<void>((r) => (this.wake = r)))
        this.wake = undefined
      }
    } finally {
      this.following = false
    }
  }

  status(): ViewStatus {
    const end = BigInt(this.store.nativeHandle().nextSequence())
    const position = this.position
    const s: ViewStatus = {
      name: this.name,
      version: this.version,
      storage: this.def.storage,
      position,
      end,
      lag: end > position ? end - position : 0n,
      size: this.size,
      following: this.following,
    }
    if (this.resetOnOpen) s.resetOnOpen = this.resetOnOpen
    if (this.failure) s.failure = { ...this.failure }
    return s
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** Stops following and releases the state files; the committed state stays on disk. Safe to call twice. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.wake?.()
    this.backend.close()
  }
}
