import type { StoreOptions } from './options.js'
import type { Store } from './store.js'

/**
 * Features that live in their own modules (projection snapshots, automatic
 * maintenance) hook into Store.open without store.ts importing them: `check`
 * validates the options before anything is opened (bad input leaves the
 * directory untouched), `start` runs once the store is open.
 */
export interface OpenHook {
  check(options: StoreOptions): unknown
  start(store: Store, checked: unknown): void
}

const hooks: OpenHook[] = []

export function registerOpenHook(hook: OpenHook): void {
  hooks.push(hook)
}

/** Runs every hook's check; returns what start needs, in hook order. */
export function checkOpenHooks(options: StoreOptions): unknown[] {
  return hooks.map((h) => h.check(options))
}

export function startOpenHooks(store: Store, checked: unknown[]): void {
  hooks.forEach((h, i) => h.start(store, checked[i]))
}
