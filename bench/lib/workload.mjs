// The shared workload: configuration, payloads, entities, frames and the
// helpers (timing, medians, tables, scratch directories) every bench uses.
// Every contender stores the same events: event i belongs to entity
// i % ENTITIES, in scope `shop-${entity % 10}`, with kind (clock % 4) + 1 of
// category 1, and a ~150-byte msgpack payload encoded by the same msgpackr
// configuration causeway uses internally.
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const ROOT_DIR = path.resolve(BENCH_DIR, '..')

// msgpackr as causeway resolves it (the root package's dependency), so the
// peers pack with the very same library version and options.
const rootRequire = createRequire(path.join(ROOT_DIR, 'package.json'))
const { Packr, Unpackr } = rootRequire('msgpackr')
export const MSGPACKR_VERSION = (() => {
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT_DIR, 'node_modules', 'msgpackr', 'package.json'), 'utf8')).version
  } catch {
    return 'unknown'
  }
})()

/** Same options as src/codec.ts: plain MessagePack, no record extension. */
export const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true })
export const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true })

function intEnv(name, dflt) {
  const v = process.env[name]
  if (v === undefined || v === '') return dflt
  const n = Number(v.replace(/_/g, ''))
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${v}`)
  return n
}

export const config = {
  /** Events for the non-durable append workloads and the scans. */
  events: intEnv('BENCH_EVENTS', 1_000_000),
  /** Events for the durable workloads (each one costs an fdatasync). */
  durableEvents: intEnv('BENCH_DURABLE_EVENTS', 2_000),
  /** Repetitions; the tables report the median. */
  runs: intEnv('BENCH_RUNS', 3),
  entities: 10_000,
  scopes: 10,
  kinds: 4,
  batch: intEnv('BENCH_BATCH', 100),
  /** Distinct payload objects cycled through (built once, outside the timings). */
  payloadPool: 1_024,
}

export const ENTITIES = config.entities

/** Deterministic PRNG (mulberry32), so every run and contender sees the same data. */
export function rng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const WORDS = (
  'gift wrap please leave at the door ring twice fragile handle with care deliver before noon ' +
  'side entrance call on arrival express shipping no substitutions second floor office reception ' +
  'include invoice paper bag birthday present back door weekend delivery contact by email'
).split(' ')

/** The payload objects: { sku, qty, price, customer, note }, ~150 bytes packed. */
export const payloads = (() => {
  const r = rng(42)
  const out = []
  for (let i = 0; i < config.payloadPool; i++) {
    let note = ''
    const target = 58 + Math.floor(r() * 34) // note of 58..91 chars: ~150 bytes on average
    while (note.length < target) note += (note ? ' ' : '') + WORDS[Math.floor(r() * WORDS.length)]
    out.push({
      sku: `SKU-${String(Math.floor(r() * 1e6)).padStart(6, '0')}`,
      qty: 1 + Math.floor(r() * 9),
      price: Math.round(r() * 50000) / 100 + 0.01,
      customer: `customer-${String(Math.floor(r() * 1e6)).padStart(6, '0')}@example.com`,
      note: note.slice(0, target),
    })
  }
  return out
})()

export const avgPayloadBytes = payloads.reduce((s, p) => s + packr.pack(p).length, 0) / payloads.length

export const entityNames = Array.from({ length: ENTITIES }, (_, e) => `order:${e}`)
export const scopeNames = Array.from({ length: config.scopes }, (_, s) => `shop-${s}`)
/** Scope index of an entity. */
export const scopeOf = (e) => e % config.scopes
/** Kind type (1..4) of event i: an entity's events cycle through 4 kinds. */
export const kindTypeOf = (i) => (Math.floor(i / ENTITIES) % config.kinds) + 1
/** The packed u16 kind value (category 1): 0x1000 | type, as causeway stores it. */
export const kindValue = (type) => (1 << 12) | type

// The peers' record: u16 kind | u8 entityLen | entity | u8 scopeLen | scope |
// msgpack payload (lmdb value; the fs floor adds a u32 length prefix).
// The per-entity middle part is built once here.
export const entityHeaders = entityNames.map((name, e) => {
  const sc = scopeNames[scopeOf(e)]
  const b = Buffer.alloc(2 + name.length + sc.length)
  b[0] = name.length
  b.write(name, 1, 'latin1')
  b[1 + name.length] = sc.length
  b.write(sc, 2 + name.length, 'latin1')
  return b
})

/**
 * Writes event i's record at `buf[at..]` (payload packed now, as causeway
 * packs inside append) and returns the record length.
 */
export function writeRecord(buf, at, i) {
  const e = i % ENTITIES
  const payload = packr.pack(payloads[i % config.payloadPool])
  buf.writeUInt16BE(kindValue(kindTypeOf(i)), at)
  const h = entityHeaders[e]
  h.copy(buf, at + 2)
  const p = at + 2 + h.length
  buf.set(payload, p)
  return p + payload.length - at
}

/** Reads a record header: kind, entity name, scope name, payload offset. */
export function readHeader(b) {
  const kind = (b[0] << 8) | b[1]
  const el = b[2]
  const entity = b.latin1Slice(3, 3 + el)
  const sl = b[3 + el]
  const scope = b.latin1Slice(4 + el, 4 + el + sl)
  return { kind, entity, scope, payloadAt: 4 + el + sl }
}

/** The record's payload offset without decoding the names. */
export function payloadOffset(b) {
  const el = b[2]
  return 4 + el + b[3 + el]
}

// ---- read-workload parameters, the same for every contender ----

/** Entities read by the per-entity workload (deterministic sample). */
export function sampleEntities(count) {
  const r = rng(7)
  return Array.from({ length: count }, () => Math.floor(r() * ENTITIES))
}

// ---- timing and statistics ----

export const now = () => performance.now()

export function gc() {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc()
    globalThis.gc()
  }
}

export function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

export function fmtInt(x) {
  if (!Number.isFinite(x)) return 'n/a'
  return Math.round(x).toLocaleString('en-US')
}

export function fmtRatio(x) {
  if (!Number.isFinite(x)) return ''
  return x >= 10 ? `${x.toFixed(1)}×` : `${x.toFixed(2)}×`
}

/** A Markdown table with padded columns (readable raw and rendered). */
export function markdownTable(header, rows, align) {
  const all = [header, ...rows]
  const w = header.map((_, c) => Math.max(3, ...all.map((r) => String(r[c] ?? '').length)))
  const line = (r) => '| ' + r.map((v, c) => (align?.[c] === 'r' ? String(v ?? '').padStart(w[c]) : String(v ?? '').padEnd(w[c]))).join(' | ') + ' |'
  const sep = '| ' + w.map((n, c) => (align?.[c] === 'r' ? '-'.repeat(n - 1) + ':' : '-'.repeat(n))).join(' | ') + ' |'
  return [line(header), sep, ...rows.map(line)].join('\n')
}

// ---- scratch directories under bench/data/ ----

export function scratchRoot() {
  const root = path.join(BENCH_DIR, 'data', `run-${process.pid}`)
  fs.mkdirSync(root, { recursive: true })
  return root
}

export function freshDir(root, name) {
  const d = path.join(root, name)
  fs.rmSync(d, { recursive: true, force: true })
  fs.mkdirSync(d, { recursive: true })
  return d
}

export function removeDir(d) {
  fs.rmSync(d, { recursive: true, force: true })
}

/** Removes this run's scratch root, and bench/data/ itself when left empty. */
export function removeScratchRoot(root) {
  removeDir(root)
  const data = path.dirname(root)
  try {
    if (fs.readdirSync(data).length === 0) fs.rmdirSync(data)
  } catch {}
}

export function dirBytes(d) {
  let n = 0
  for (const f of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, f.name)
    n += f.isDirectory() ? dirBytes(p) : fs.statSync(p).size
  }
  return n
}

/** Resident memory split from /proc/self/status, in bytes (Linux). */
export function residentMemory() {
  const out = { rss: process.memoryUsage().rss, anon: NaN, file: NaN }
  try {
    const s = fs.readFileSync('/proc/self/status', 'utf8')
    const kb = (k) => {
      const m = s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm'))
      return m ? Number(m[1]) * 1024 : NaN
    }
    out.anon = kb('RssAnon')
    out.file = kb('RssFile') + kb('RssShmem')
  } catch {}
  return out
}
