// The peers: lmdb and better-sqlite3, installed into bench/node_modules by
// bench/run.mjs (see ./contenders.mjs for the contender interface).
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import {
  BENCH_DIR,
  config,
  ENTITIES,
  entityNames,
  kindTypeOf,
  kindValue,
  packr,
  payloadOffset,
  payloads,
  readHeader,
  scopeNames,
  scopeOf,
  unpackr,
  writeRecord,
} from './workload.mjs'

const benchRequire = createRequire(path.join(BENCH_DIR, 'package.json'))
const versionOf = (name) => JSON.parse(fs.readFileSync(path.join(BENCH_DIR, 'node_modules', name, 'package.json'), 'utf8')).version
export const peerVersions = { lmdb: versionOf('lmdb'), 'better-sqlite3': versionOf('better-sqlite3') }
const lmdb = benchRequire('lmdb')
const Database = benchRequire('better-sqlite3')

const POOL = config.payloadPool
const BATCH = config.batch

// ---------------------------------------------------------------------- lmdb

function seqKey(buf, seq) {
  buf.writeUInt32BE(Math.floor(seq / 0x100000000), 0)
  buf.writeUInt32BE(seq >>> 0, 4)
  return buf
}

export function lmdbContender(indexed) {
  const openEnv = (dir, durable) => {
    // Non-durable: noSync (lmdb-js's default, overlappingSync, still runs an
    // fdatasync per committed transaction: ~5k puts/s here). Durable: noSync
    // false and overlappingSync false, so each commit fdatasyncs before
    // putSync/transactionSync returns (checked with strace: one fdatasync per commit).
    const env = lmdb.open({
      path: dir,
      compression: false,
      encoding: 'binary',
      keyEncoding: 'binary',
      ...(durable ? { noSync: false, overlappingSync: false } : { noSync: true }),
    })
    const h = { env, events: env.openDB('events', { encoding: 'binary', keyEncoding: 'binary', compression: false }) }
    if (indexed) {
      // Secondary indexes like causeway's: entity, scope and kind -> sequence keys.
      h.byEntity = env.openDB('by-entity', { dupSort: true, encoding: 'binary', compression: false })
      h.byScope = env.openDB('by-scope', { dupSort: true, encoding: 'binary', compression: false })
      h.byKind = env.openDB('by-kind', { dupSort: true, encoding: 'binary', keyEncoding: 'uint32', compression: false })
    }
    h.key = Buffer.alloc(8)
    h.rec = Buffer.alloc(64 * 1024)
    return h
  }
  const putOne = indexed
    ? (h, i) => {
        const key = seqKey(h.key, i + 1)
        const len = writeRecord(h.rec, 0, i)
        const e = i % ENTITIES
        h.events.putSync(key, h.rec.subarray(0, len))
        h.byEntity.putSync(entityNames[e], key)
        h.byScope.putSync(scopeNames[scopeOf(e)], key)
        h.byKind.putSync(kindValue(kindTypeOf(i)), key)
      }
    : (h, i) => {
        const len = writeRecord(h.rec, 0, i)
        h.events.putSync(seqKey(h.key, i + 1), h.rec.subarray(0, len))
      }
  const single = indexed
    ? (h, n) => {
        for (let i = 0; i < n; i++) h.env.transactionSync(() => putOne(h, i))
      }
    : (h, n) => {
        for (let i = 0; i < n; i++) putOne(h, i)
      }
  const decodeAll = (h, keys) => {
    let check = 0
    for (const k of keys) {
      const v = h.events.getBinaryFast(k)
      check += unpackr.unpack(v.subarray(payloadOffset(v), v.length)).qty
    }
    return check
  }
  return {
    id: indexed ? 'lmdb+idx' : 'lmdb',
    label: indexed ? `lmdb + 3 index DBs` : 'lmdb',
    note: indexed
      ? 'events DB plus dupSort DBs entity/scope/kind -> seq, all puts of an event in one transactionSync'
      : 'one DB, putSync per event keyed by 8-byte big-endian seq',
    open(dir, { durable } = {}) {
      return openEnv(dir, durable)
    },
    appendSingle: single,
    appendBatch(h, n) {
      for (let i = 0; i < n; i += BATCH) {
        const end = Math.min(n, i + BATCH)
        h.env.transactionSync(() => {
          for (let j = i; j < end; j++) putOne(h, j)
        })
      }
    },
    appendDurable: single,
    close(h) {
      return h.env.close()
    },
    reads: indexed
      ? {
          scanDecode(h) {
            let events = 0
            let check = 0
            for (const { value } of h.events.getRange({})) {
              const hd = readHeader(value)
              check += unpackr.unpack(value.subarray(hd.payloadAt)).qty
              events++
            }
            return { events, check }
          },
          scanHeaders(h) {
            let events = 0
            let check = 0
            for (const { value } of h.events.getRange({})) {
              const hd = readHeader(value)
              check += hd.kind + (hd.entity.length & 0)
              events++
            }
            return { events, check }
          },
          stream(h, entities) {
            let events = 0
            let check = 0
            for (const e of entities) {
              const keys = [...h.byEntity.getValues(entityNames[e])]
              events += keys.length
              check += decodeAll(h, keys)
            }
            return { events, check }
          },
          scope(h, scopes) {
            let events = 0
            let check = 0
            for (const sc of scopes) {
              const keys = [...h.byScope.getValues(scopeNames[sc])]
              events += keys.length
              check += decodeAll(h, keys)
            }
            return { events, check }
          },
          kind(h, types) {
            let events = 0
            let check = 0
            for (const t of types) {
              const keys = [...h.byKind.getValues(kindValue(t))]
              events += keys.length
              check += decodeAll(h, keys)
            }
            return { events, check }
          },
          scopeKind(h, pairs) {
            // The scope index (1/10 of events), filtered on the record's kind.
            let events = 0
            let check = 0
            for (const [sc, t] of pairs) {
              const want = kindValue(t)
              for (const k of h.byScope.getValues(scopeNames[sc])) {
                const v = h.events.getBinaryFast(k)
                if (((v[0] << 8) | v[1]) !== want) continue
                check += unpackr.unpack(v.subarray(payloadOffset(v), v.length)).qty
                events++
              }
            }
            return { events, check }
          },
        }
      : undefined,
    reopen(dir) {
      return openEnv(dir, false)
    },
    reopenedStats(h) {
      return { events: h.events.getStats().entryCount }
    },
    closeReopened(h) {
      return h.env.close()
    },
  }
}

// ------------------------------------------------------------ better-sqlite3

export function sqliteContender(indexed) {
  const openDb = (dir, durable) => {
    const db = new Database(path.join(dir, 'events.db'))
    db.pragma('journal_mode = WAL')
    // NORMAL in WAL mode: no fsync per commit (only at checkpoints).
    // FULL in WAL mode: the WAL is synced at every commit.
    db.pragma(`synchronous = ${durable ? 'FULL' : 'NORMAL'}`)
    db.exec(
      'CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, entity TEXT NOT NULL, scope TEXT NOT NULL, kind INTEGER NOT NULL, payload BLOB NOT NULL)',
    )
    if (indexed) {
      db.exec('CREATE INDEX IF NOT EXISTS events_entity ON events (entity)')
      db.exec('CREATE INDEX IF NOT EXISTS events_scope ON events (scope)')
      db.exec('CREATE INDEX IF NOT EXISTS events_kind ON events (kind)')
    }
    const insert = db.prepare('INSERT INTO events (seq, entity, scope, kind, payload) VALUES (?, ?, ?, ?, ?)')
    const insertOne = (i) => {
      const e = i % ENTITIES
      insert.run(i + 1, entityNames[e], scopeNames[scopeOf(e)], kindValue(kindTypeOf(i)), packr.pack(payloads[i % POOL]))
    }
    const batch = db.transaction((from, to) => {
      for (let j = from; j < to; j++) insertOne(j)
    })
    return { db, insertOne, batch }
  }
  const single = (h, n) => {
    for (let i = 0; i < n; i++) h.insertOne(i)
  }
  const decodeRows = (stmt, arg) => {
    let events = 0
    let check = 0
    for (const row of stmt.all(arg)) {
      check += unpackr.unpack(row[1]).qty
      events++
    }
    return { events, check }
  }
  const add = (a, b) => ({ events: a.events + b.events, check: a.check + b.check })
  return {
    id: indexed ? 'sqlite+idx' : 'sqlite',
    label: indexed ? 'better-sqlite3 + 3 indexes' : 'better-sqlite3',
    note: indexed
      ? 'same table plus indexes on entity, scope, kind'
      : 'WAL, events(seq INTEGER PRIMARY KEY, entity, scope, kind, payload), prepared insert',
    open(dir, { durable } = {}) {
      return openDb(dir, durable)
    },
    appendSingle: single,
    appendBatch(h, n) {
      for (let i = 0; i < n; i += BATCH) h.batch(i, Math.min(n, i + BATCH))
    },
    appendDurable: single,
    close(h) {
      h.db.close()
    },
    reads: indexed
      ? {
          scanDecode(h) {
            let events = 0
            let check = 0
            const st = h.db.prepare('SELECT seq, entity, scope, kind, payload FROM events ORDER BY seq').raw(true)
            for (const row of st.iterate()) {
              check += unpackr.unpack(row[4]).qty
              events++
            }
            return { events, check }
          },
          scanHeaders(h) {
            let events = 0
            let check = 0
            const st = h.db.prepare('SELECT seq, entity, scope, kind FROM events ORDER BY seq').raw(true)
            for (const row of st.iterate()) {
              check += row[3] + (row[1].length & 0)
              events++
            }
            return { events, check }
          },
          stream(h, entities) {
            const st = h.db.prepare('SELECT seq, payload, kind FROM events WHERE entity = ? ORDER BY seq').raw(true)
            let r = { events: 0, check: 0 }
            for (const e of entities) r = add(r, decodeRows(st, entityNames[e]))
            return r
          },
          scope(h, scopes) {
            const st = h.db.prepare('SELECT seq, payload, entity, kind FROM events WHERE scope = ? ORDER BY seq').raw(true)
            let r = { events: 0, check: 0 }
            for (const sc of scopes) r = add(r, decodeRows(st, scopeNames[sc]))
            return r
          },
          kind(h, types) {
            const st = h.db.prepare('SELECT seq, payload, entity, scope FROM events WHERE kind = ? ORDER BY seq').raw(true)
            let r = { events: 0, check: 0 }
            for (const t of types) r = add(r, decodeRows(st, kindValue(t)))
            return r
          },
          scopeKind(h, pairs) {
            const st = h.db.prepare('SELECT seq, payload, entity FROM events WHERE scope = ? AND kind = ? ORDER BY seq').raw(true)
            let r = { events: 0, check: 0 }
            for (const [sc, t] of pairs) {
              let events = 0
              let check = 0
              for (const row of st.all(scopeNames[sc], kindValue(t))) {
                check += unpackr.unpack(row[1]).qty
                events++
              }
              r = add(r, { events, check })
            }
            return r
          },
        }
      : undefined,
    reopen(dir) {
      return new Database(path.join(dir, 'events.db'))
    },
    reopenedStats(db) {
      return { events: db.prepare('SELECT count(*) AS n FROM events').get().n }
    },
    closeReopened(db) {
      db.close()
    },
  }
}

