import type { Store } from '../store.js'

/** A projection's state as of `scanned`, the last global sequence read for its entity. */
export interface CacheEntry {
  state: unknown
  position: bigint | null
  scanned: bigint | null
  /** Date.now() when the entry was last brought up to date. */
  at: number
  /** Id of the event at `scanned`: a persisted snapshot is reused only while that event still stands there. */
  eventId?: string | undefined
  /** The compaction epoch the fold began under (projection snapshots write only entries of the current one). */
  epoch?: number | undefined
}

/** Entries kept per Store; the least recently used is dropped beyond this. */
export const MAX_CACHE_ENTRIES = 10_000

const caches = new WeakMap<Store, Map<string, CacheEntry>>()

/** The key of (name, version, kinds): one projection, every entity. */
export function projectionKey(name: string, version: number, kinds: readonly number[] | undefined): string {
  const k = kinds ? [...kinds].sort((a, b) => a - b).join(',') : '*'
  return `\u0000${name}\u0000${version}\u0000${k}`
}

/** The key of (entity, name, version, kinds). */
export function cacheKey(entity: string, name: string, version: number, kinds: readonly number[] | undefined): string {
  return entity + projectionKey(name, version, kinds)
}

/** The entries of one projection (a projectionKey), least recently used first, with their entity. */
export function* cacheEntriesOf(store: Store, pkey: string): Generator<[string, CacheEntry]> {
  const c = caches.get(store)
  if (!c) return
  for (const [k, e] of c) if (k.endsWith(pkey) && !k.slice(0, k.length - pkey.length).includes('\u0000')) yield [k.slice(0, k.length - pkey.length), e]
}

function cacheOf(store: Store): Map<string, CacheEntry> {
  let c = caches.get(store)
  if (!c) caches.set(store, (c = new Map()))
  return c
}

export function cacheGet(store: Store, key: string): CacheEntry | undefined {
  const c = cacheOf(store)
  const e = c.get(key)
  if (e) {
    c.delete(key)
    c.set(key, e)
  }
  return e
}

export function cachePut(store: Store, key: string, entry: CacheEntry): void {
  const c = cacheOf(store)
  c.delete(key)
  c.set(key, entry)
  if (c.size > MAX_CACHE_ENTRIES) {
    const oldest = c.keys().next()
    if (!oldest.done) c.delete(oldest.value)
  }
}

/** Drops one entry. */
export function cacheDelete(store: Store, key: string): void {
  caches.get(store)?.delete(key)
}

/** Drops every entry of a store: its reads changed (an upcast step or a type's version), so folded states may be stale. */
export function cacheClear(store: Store): void {
  caches.delete(store)
  for (const f of clearListeners) f(store)
}

const clearListeners: Array<(store: Store) => void> = []

/** Called by cacheClear (projection snapshots forget what they read). */
export function onCacheClear(f: (store: Store) => void): void {
  clearListeners.push(f)
}
