// The causeway contender (see ./contenders.mjs for the contender interface).
import { config, ENTITIES, entityNames, kindTypeOf, payloads, scopeNames, scopeOf } from './workload.mjs'

const { Store, Coordinate, EventKind, Region } = await import('../../dist/esm/index.mjs')

const POOL = config.payloadPool
const BATCH = config.batch

// ------------------------------------------------------------------ causeway

const coords = entityNames.map((name, e) => new Coordinate(name, scopeNames[scopeOf(e)]))
const kinds = [null, 1, 2, 3, 4].map((t) => (t === null ? null : EventKind.custom(1, t)))
const DURABLE = Object.freeze({ durable: true })

export function causeway(id, label, storeOptions, note, { writeOnly = false } = {}) {
  const c = {
    id,
    label,
    note,
    writes: writeOnly ? ['single', 'batch'] : ['single', 'batch', 'durable'],
    open(dir) {
      return Store.open({ dataDir: dir, ...storeOptions })
    },
    appendSingle(s, n) {
      for (let i = 0; i < n; i++) s.append(coords[i % ENTITIES], kinds[kindTypeOf(i)], payloads[i % POOL])
    },
    appendBatch(s, n) {
      for (let i = 0; i < n; i += BATCH) {
        const items = []
        const end = Math.min(n, i + BATCH)
        for (let j = i; j < end; j++) items.push({ coord: coords[j % ENTITIES], kind: kinds[kindTypeOf(j)], payload: payloads[j % POOL] })
        s.appendBatch(items)
      }
    },
    appendDurable(s, n) {
      for (let i = 0; i < n; i++) s.append(coords[i % ENTITIES], kinds[kindTypeOf(i)], payloads[i % POOL], DURABLE)
    },
    close(s) {
      s.close()
    },
    reads: {
      // Full scans read through scan(): batches of 4096 events with
      // accessors by position (EventBatch), no object per event.
      scanDecode(s) {
        let events = 0
        let check = 0
        for (const b of s.scan(Region.all())) {
          for (let i = 0; i < b.length; i++) check += b.payload(i).qty
          events += b.length
        }
        return { events, check }
      },
      scanHeaders(s) {
        let events = 0
        let check = 0
        for (const b of s.scan(Region.all())) {
          for (let i = 0; i < b.length; i++) check += b.kindValue(i) + (b.coordinate(i).entity.length & 0)
          events += b.length
        }
        return { events, check }
      },
      // The loop a user writes: for...of over query() (a lazy array read in
      // chunks of 4096 above 4096 events, see src/lazy-events.ts).
      scanDecodeForOf(s) {
        let events = 0
        let check = 0
        for (const e of s.query(Region.all())) {
          check += e.payload.qty
          events++
        }
        return { events, check }
      },
      // The same scans through query() by index: each chunk's StoredEvents kept once read.
      scanDecodeQuery(s) {
        const evs = s.query(Region.all())
        let check = 0
        for (let i = 0; i < evs.length; i++) check += evs[i].payload.qty
        return { events: evs.length, check }
      },
      scanHeadersQuery(s) {
        const evs = s.query(Region.all())
        let check = 0
        for (let i = 0; i < evs.length; i++) {
          const e = evs[i]
          check += e.kind.value + (e.coordinate.entity.length & 0)
        }
        return { events: evs.length, check }
      },
      stream(s, entities) {
        let events = 0
        let check = 0
        for (const e of entities) {
          const evs = s.stream(entityNames[e])
          events += evs.length
          for (let i = 0; i < evs.length; i++) check += evs[i].payload.qty
        }
        return { events, check }
      },
      scope(s, scopes) {
        let events = 0
        let check = 0
        for (const sc of scopes) {
          const evs = s.byScope(scopeNames[sc])
          events += evs.length
          for (let i = 0; i < evs.length; i++) check += evs[i].payload.qty
        }
        return { events, check }
      },
      kind(s, types) {
        let events = 0
        let check = 0
        for (const t of types) {
          const evs = s.byFact(kinds[t])
          events += evs.length
          for (let i = 0; i < evs.length; i++) check += evs[i].payload.qty
        }
        return { events, check }
      },
      scopeKind(s, pairs) {
        let events = 0
        let check = 0
        for (const [sc, t] of pairs) {
          const evs = s.query(Region.scope(scopeNames[sc]).withFact(kinds[t]))
          events += evs.length
          for (let i = 0; i < evs.length; i++) check += evs[i].payload.qty
        }
        return { events, check }
      },
    },
    reopen(dir) {
      return Store.open({ dataDir: dir, ...storeOptions })
    },
    reopenedStats(s) {
      const st = s.stats()
      return { events: st.events, indexBytes: st.indexBytes }
    },
    closeReopened(s) {
      s.close()
    },
  }
  if (writeOnly) c.reads = undefined
  return c
}

