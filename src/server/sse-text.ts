/**
 * Recent events' Server-Sent-Events text, shared by every live stream of a
 * store: an event's JSON is the same for every subscriber (a selection
 * picks events, never changes them), so 100 subscribers format it once,
 * not 100 times. Bounded (the newest events only: live streams read near
 * the head); forgotten when the store's read caches are cleared (a new
 * upcast step changes how payloads read), and never used for an event a
 * compaction has emptied since (tombstone: its payload reads null now).
 */
import type { StoredEvent } from '../event.js'
import { onCacheClear } from '../projection/cache.js'
import type { Store } from '../store.js'
import { toJson } from './body.js'
import { eventWire } from './wire.js'

const MAX_TEXTS = 4096
const texts = new WeakMap<Store, Map<bigint, { text: string; tombstoned: boolean }>>()
onCacheClear((store) => texts.delete(store))

/** `id: <globalSequence>`, `event: event`, `data: <event JSON>`, as one SSE message. */
export function sseEvent(store: Store, e: StoredEvent): string {
  let byStore = texts.get(store)
  if (byStore === undefined) texts.set(store, (byStore = new Map()))
  const seq = e.globalSequence
  const tombstoned = e.tombstoned
  const known = byStore.get(seq)
  if (known !== undefined && known.tombstoned === tombstoned) return known.text
  const text = `id: ${seq}\nevent: event\ndata: ${toJson(eventWire(e))}\n\n`
  if (known === undefined && byStore.size >= MAX_TEXTS) byStore.delete(byStore.keys().next().value!) // the oldest
  byStore.set(seq, { text, tombstoned })
  return text
}
