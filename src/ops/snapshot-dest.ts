import * as fs from 'node:fs'
import * as path from 'node:path'
import { InvalidArgumentError } from '../errors.js'

/** The real path of `p`: its nearest existing ancestor resolved (symlinks too), the rest appended as written. */
export function realish(p: string): string {
  let existing = p
  const rest: string[] = []
  for (;;) {
    try {
      return path.join(fs.realpathSync.native(existing), ...rest)
    } catch {
      const parent = path.dirname(existing)
      if (parent === existing) return p
      rest.unshift(path.basename(existing))
      existing = parent
    }
  }
}

/**
 * Checks a snapshot destination against the store's data directory and
 * returns it as an absolute path. Refuses, with InvalidArgumentError, a
 * destination equal to the data directory or inside it (a copy of the log
 * within the log's own directory), compared after resolving symlinks of the
 * existing part of each path. Writes nothing. For every snapshot entry
 * point (Store.snapshot, the CLI, an asynchronous snapshot).
 */
export function checkSnapshotDest(dataDir: string, destDir: string): string {
  if (typeof destDir !== 'string' || destDir.length === 0) throw new InvalidArgumentError('snapshot expects a destination directory')
  const dest = path.resolve(destDir)
  const data = realish(path.resolve(dataDir))
  const real = realish(dest)
  const rel = path.relative(data, real)
  if (rel === '') throw new InvalidArgumentError(`a snapshot cannot be taken into the store itself (${dest} is its data directory)`)
  if (!rel.startsWith('..') && !path.isAbsolute(rel)) {
    throw new InvalidArgumentError(`snapshot destination ${dest} is inside the store's data directory ${data}: choose a directory outside it`)
  }
  return dest
}
