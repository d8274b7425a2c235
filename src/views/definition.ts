import * as path from 'node:path'
import { InvalidArgumentError } from '../errors.js'
import type { StoredEvent } from '../event.js'
import { isSelection, type Selection } from '../query/selection.js'
import { checkOptions, optionKeys } from '../strict.js'

/** What `store.view(name, definition)` maintains: a state per key, folded over every event the query matches. */
export interface ViewDefinition<S = unknown, P = unknown> {
  /** The events the view folds: a DCB Query or a Region. */
  query: Selection
  /** A positive integer; raise it when init, apply, key or query change and the view rebuilds from scratch. */
  version: number
  /** The state of a key before its first event. */
  init: (key: string) => S
  /** The key's next state; `undefined` removes the key. Must be deterministic: a rebuild replays it. */
  apply: (state: S, event: StoredEvent<P>) => S | undefined
  /** The key(s) an event updates; none (undefined or []) skips it. @defaultValue the event's entity */
  key?: (event: StoredEvent<P>) => string | readonly string[] | undefined
  /** 'lmdb': persisted under `<dataDir>/views/<name>/`; 'memory': folded again after every open. @defaultValue 'lmdb' */
  storage?: 'lmdb' | 'memory'
  /** At most this many events per transaction (each commit is one lmdb sync). @defaultValue 10000 */
  batchSize?: number
}

export const VIEW_DEFINITION_KEYS = optionKeys<ViewDefinition>()(['query', 'version', 'init', 'apply', 'key', 'storage', 'batchSize'])

const NAME_RE = /^[A-Za-z0-9._-]{1,128}$/

/** A view name: letters, digits and `.-_`, never `.` or `..`, so `<dataDir>/views/<name>` stays inside the data directory. */
export function checkViewName(name: unknown): string {
  if (typeof name !== 'string' || !NAME_RE.test(name) || name === '.' || name === '..') {
    throw new InvalidArgumentError('view name must be 1..128 characters of A-Z a-z 0-9 . _ - (and not . or ..)', { name })
  }
  return name
}

/** The directory of a view's lmdb environment. */
export function viewDir(dataDir: string, name: string): string {
  const dir = path.join(dataDir, 'views', checkViewName(name))
  // The name check already rules escapes out; this guards the rule itself.
  if (path.dirname(dir) !== path.join(dataDir, 'views')) throw new InvalidArgumentError(`view name ${name} leaves the views directory`)
  return dir
}

export interface CheckedDefinition<S, P> {
  readonly query: Selection
  readonly version: number
  readonly init: (key: string) => S
  readonly apply: (state: S, event: StoredEvent<P>) => S | undefined
  readonly key: (event: StoredEvent<P>) => string | readonly string[] | undefined
  readonly storage: 'lmdb' | 'memory'
  readonly batchSize: number
}

const entityKey = (e: StoredEvent<unknown>): string => e.coordinate.entity

/** The definition checked (InvalidArgumentError naming the field) with its defaults filled in. */
export function checkDefinition<S, P>(def: ViewDefinition<S, P>): CheckedDefinition<S, P> {
  if (typeof def !== 'object' || def === null) throw new InvalidArgumentError('view expects a definition { query, version, init, apply, key? }')
  checkOptions('view', def, VIEW_DEFINITION_KEYS)
  if (!isSelection(def.query)) throw new InvalidArgumentError('view: query must be a Query or a Region')
  if (!Number.isSafeInteger(def.version) || def.version < 1) throw new InvalidArgumentError('view: version must be a positive integer')
  if (typeof def.init !== 'function') throw new InvalidArgumentError('view: init must be a function (key) => state')
  if (typeof def.apply !== 'function') throw new InvalidArgumentError('view: apply must be a function (state, event) => state')
  if (def.key !== undefined && typeof def.key !== 'function') throw new InvalidArgumentError('view: key must be a function (event) => key(s)')
  const storage = def.storage ?? 'lmdb'
  if (storage !== 'lmdb' && storage !== 'memory') throw new InvalidArgumentError("view: storage must be 'lmdb' or 'memory'")
  const batchSize = def.batchSize ?? 10_000
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1_000_000) throw new InvalidArgumentError('view: batchSize must be 1..1000000')
  return {
    query: def.query,
    version: def.version,
    init: def.init,
    apply: def.apply,
    key: def.key ?? (entityKey as (e: StoredEvent<P>) => string),
    storage,
    batchSize,
  }
}

const MAX_KEY_BYTES = 1024

/** The keys an event updates, checked: non-empty strings of at most 1024 UTF-8 bytes (lmdb's key limit is near 2 KiB). */
export function keysOf(raw: string | readonly string[] | undefined): readonly string[] {
  if (raw === undefined) return []
  const list = typeof raw === 'string' ? [raw] : raw
  if (!Array.isArray(list)) throw new InvalidArgumentError('a view key must be a string or an array of strings')
  for (const k of list) {
    if (typeof k !== 'string' || k.length === 0 || Buffer.byteLength(k) > MAX_KEY_BYTES) {
      throw new InvalidArgumentError(`a view key must be a non-empty string of at most ${MAX_KEY_BYTES} bytes`)
    }
  }
  return list
}
