import * as fs from 'node:fs'
import * as path from 'node:path'
import { isCausewayError, Store, type StoreOptions } from '../index.js'
import { Failure, UsageError } from './errors.js'

/** Segment file names of a store directory, oldest first. */
export function segmentNames(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.cwseg'))
    .sort()
}

/**
 * The absolute path of an existing store. Refuses (exit 2) a path that does
 * not exist or holds no segment file, so a typo never creates a new store.
 */
export function existingStore(dir: string): string {
  const abs = path.resolve(dir)
  let st: fs.Stats
  try {
    st = fs.statSync(abs)
  } catch {
    throw new UsageError(`no store at ${dir}: the directory does not exist`)
  }
  if (!st.isDirectory()) throw new UsageError(`no store at ${dir}: not a directory`)
  if (segmentNames(abs).length === 0) throw new UsageError(`no store at ${dir}: the directory holds no .cwseg segment file`)
  return abs
}

/** Another process writes to the store (one writer at a time; readers take no lock). */
export class StoreInUseError extends Failure {}

/**
 * Opens a store, turning "another process writes here" into an explanation.
 * Only a writable open can meet one: read-only opens take no lock.
 */
export function openStore(dir: string, readOnly: boolean, options: Omit<StoreOptions, 'dataDir' | 'readOnly'> = {}): Store {
  try {
    return Store.open({ ...options, dataDir: dir, readOnly })
  } catch (e) {
    if (isCausewayError(e, 'E_STORE_LOCKED')) {
      throw new StoreInUseError(`${dir} is in use: ${e.message}. It was opened exclusive; stop the process that holds it, or run this on a snapshot.`)
    }
    throw e
  }
}

/** Runs `f` on an open store and closes it afterwards, also when `f` throws. */
export async function withStore<T>(
  dir: string,
  readOnly: boolean,
  f: (store: Store) => T | Promise<T>,
  options: Omit<StoreOptions, 'dataDir' | 'readOnly'> = {},
): Promise<T> {
  const store = openStore(dir, readOnly, options)
  try {
    return await f(store)
  } finally {
    store.close()
  }
}
