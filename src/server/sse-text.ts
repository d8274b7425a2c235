/**
 * Recent events' Server-Sent-Events text, shared by every live stream of a
 * store: an event's JSON is the same for every subscriber (a selection
 * picks events, never changes them), so 100 subscribers format it once,
 * not 100 times. Bounded in count and size (the newest events only: live
 * streams read near the head); forgotten when the store's read caches are cleared (a new
 * upcast step changes how payloads read), and never used for an event a
 * compaction has emptied since (tombstone: its payload reads null now).
 */
import type { StoredEvent } from '../event.js'
import { onCacheClear } from '../projection/cache.js'
import type { Store } from '../store.js'
import { toJson } from './body.js'
import { eventWire } from './wire.js'

/** At most this many texts, of at most MAX_CHARS in all, per store; a text over MAX_ONE is not kept. */
const MAX_TEXTS = 4096
const MAX_CHARS = 16 * 1024 * 1024
const MAX_ONE = 256 * 1024

interface Texts {
  bySequence: Map<bigint, { text: string; tombstoned: boolean }>
  chars: number
}
const texts = new WeakMap<Store, Texts>()
onCacheClear((store) => texts.delete(store))

/** `id: <globalSequence>`, `event: event`, `data: <event JSON>`, as one SSE message. */
export function sseEvent(store: Store, e: StoredEvent): string {
  let t = texts.get(store)
  if (t === undefined) texts.set(store, (t = { bySequence: new Map(), chars: 0 }))
  const seq = e.globalSequence
  const tombstoned = e.tombstoned
  const known = t.bySequence.get(seq)
  if (known !== undefined && known.tombstoned === tombstoned) return known.text
  const text = `id: ${seq}\nevent: event\ndata: ${toJson(eventWire(e))}\n\n`
  if (known !== undefined) {
    t.bySequence.delete(seq)
    t.chars -= known.text.length
  }
  if (text.length > MAX_ONE) return text
  // The oldest go first (a Map keeps insertion order).
  for (const [oldest, v] of t.bySequence) {
    if (t.bySequence.size < MAX_TEXTS && t.chars + text.length <= MAX_CHARS) break
    t.bySequence.delete(oldest)
    t.chars -= v.text.length
  }
  t.bySequence.set(seq, { text, tombstoned })
  t.chars += text.length
  return text
}

/** @internal For tests: how many texts, of how many characters, a store's streams share now. */
export function sseTextsHeld(store: Store): { texts: number; chars: number } {
  const t = texts.get(store)
  return { texts: t?.bySequence.size ?? 0, chars: t?.chars ?? 0 }
}
