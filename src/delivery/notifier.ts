import type { Store } from '../store.js'

/**
 * Wakes waiting cursors and subscriptions of one Store when events are
 * published, by this thread or any other sharing the store. The addon calls
 * back through a thread-safe function: nothing spins and no thread blocks.
 */
export class Notifier {
  private readonly waiters: Array<() => void> = []
  private readonly store: Store

  private constructor(store: Store) {
    this.store = store
    store.nativeHandle().setNotify(() => this.fire())
    store.onClose(() => this.fire())
  }

  static of(store: Store): Notifier {
    let n = notifiers.get(store)
    if (!n) notifiers.set(store, (n = new Notifier(store)))
    return n
  }

  /**
   * Resolves once an event at or after `seenNext` exists, the store closes,
   * or `cancel` (a promise the caller resolves, e.g. on its own close) settles.
   * While anything waits, the event loop stays alive; after, it may exit.
   */
  async wait(seenNext: number, cancel?: Promise<void>): Promise<void> {
    if (this.store.closed) return
    let resolve!: () => void
    const woken = new Promise<void>((r) => (resolve = r))
    this.waiters.push(resolve)
    this.store.nativeHandle().armNotify(seenNext, true)
    await (cancel ? Promise.race([woken, cancel]) : woken)
    const i = this.waiters.indexOf(resolve)
    if (i >= 0) {
      this.waiters.splice(i, 1)
      if (this.waiters.length === 0 && !this.store.closed) this.store.nativeHandle().idleNotify()
    }
  }

  private fire(): void {
    const ready = this.waiters.splice(0)
    if (!this.store.closed) this.store.nativeHandle().idleNotify()
    for (const f of ready) f()
  }
}

const notifiers = new WeakMap<Store, Notifier>()
