/**
 * View states in lmdb (the `lmdb` package, an optional peer loaded on first
 * use): one environment per view under `<dataDir>/views/<name>/`, a `state`
 * database of key -> state (msgpack) and a `meta` database holding the
 * position. Both change in one lmdb write transaction, so state and
 * position commit together; lmdb serialises writers across processes.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { requireOptionalPeer } from '../optional-peer.js'
import { dirModeFor } from '../options.js'
import type { StateBackend, StateTx, ViewMeta } from './backend.js'

/** The slice of lmdb's API used here; the package's own types stay out of causeway's declarations. */
interface LmdbDb {
  get(key: string): unknown
  putSync(key: string, value: unknown): boolean
  removeSync(key: string): boolean
  clearSync(): void
  getRange(options?: object): Iterable<{ key: unknown; value: unknown }>
  getCount(): number
  resetReadTxn(): void
}
interface LmdbEnv {
  openDB(options: { name: string }): LmdbDb
  transactionSync<T>(f: () => T): T
  close(): Promise<void>
}
interface LmdbModule {
  open(options: Record<string, unknown>): LmdbEnv
}

/** lmdb, or MissingDependencyError saying to install it. `load` is require, replaceable by tests. */
export function loadLmdb(load: (id: string) => unknown = require): LmdbModule {
  return requireOptionalPeer('lmdb', 'store.view with storage lmdb needs lmdb, an optional peer dependency: npm install lmdb (or use storage: memory)', load) as LmdbModule
}

interface StoredMeta {
  position: string
  version: number
  query: string
  last?: { sequence: string; eventId: string }
}

const META_KEY = 'view'

/** Sequences as decimal strings: the stored form does not depend on how the encoder treats bigints. */
function toStored(m: ViewMeta): StoredMeta {
  const out: StoredMeta = { position: m.position.toString(), version: m.version, query: m.query }
  if (m.last) out.last = { sequence: m.last.sequence.toString(), eventId: m.last.eventId }
  return out
}

export class LmdbBackend implements StateBackend {
  private readonly env: LmdbEnv
  private readonly states: LmdbDb
  private readonly metaDb: LmdbDb

  constructor(dir: string, fileMode: number, load?: (id: string) => unknown) {
    const lmdb = loadLmdb(load)
    // Owner-only like the rest of the store: the directories first, then lmdb's files once they exist.
    fs.mkdirSync(path.dirname(dir), { recursive: true, mode: dirModeFor(fileMode) })
    fs.mkdirSync(dir, { recursive: true, mode: dirModeFor(fileMode) })
    // noSubdir false: a name with a dot ("orders.v2") must stay a directory, not a file name.
    this.env = lmdb.open({ path: dir, maxDbs: 4, noSubdir: false })
    this.states = this.env.openDB({ name: 'state' })
    this.metaDb = this.env.openDB({ name: 'meta' })
    for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), fileMode)
  }

  transaction<T>(f: (tx: StateTx) => T): T {
    const tx: StateTx = {
      get: (k) => this.states.get(k),
      put: (k, s) => void this.states.putSync(k, s),
      remove: (k) => void this.states.removeSync(k),
      meta: () => this.readMeta(),
      setMeta: (m) => void this.metaDb.putSync(META_KEY, toStored(m)),
      clear: () => this.states.clearSync(),
    }
    // A throw inside aborts lmdb's transaction: nothing of it is written.
    return this.env.transactionSync(() => f(tx))
  }

  get(key: string): unknown {
    return this.states.get(key)
  }

  *entries(): IterableIterator<[string, unknown]> {
    for (const { key, value } of this.states.getRange()) yield [key as string, value]
  }

  size(): number {
    return this.states.getCount()
  }

  meta(): ViewMeta | undefined {
    // lmdb-js keeps one read snapshot until the next macrotask; the position must be the latest commit, also another process's.
    this.metaDb.resetReadTxn()
    return this.readMeta()
  }

  private readMeta(): ViewMeta | undefined {
    const m = this.metaDb.get(META_KEY) as StoredMeta | undefined
    if (m === undefined) return undefined
    const meta: ViewMeta = { position: BigInt(m.position), version: m.version, query: m.query }
    if (m.last) meta.last = { sequence: BigInt(m.last.sequence), eventId: m.last.eventId }
    return meta
  }

  close(): void {
    this.env.close().catch(() => {})
  }
}
