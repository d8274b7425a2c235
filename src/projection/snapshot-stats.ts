import * as fs from 'node:fs'
import * as path from 'node:path'
import { readEpoch } from './epoch.js'
import { SNAPSHOT_SUFFIX, readSnapshot } from './snapshot-file.js'

export interface ProjectionSnapshotFile {
  file: string
  bytes: number
  /** Null when the file cannot be used (then `invalid` says why). */
  name: string | null
  version: number | null
  entities: number
  /** Whether it was taken under the current compaction epoch (so project() may start from it). */
  current: boolean
  invalid?: string
}

export interface ProjectionSnapshotStats {
  count: number
  bytes: number
  files: ProjectionSnapshotFile[]
}

/** What `<dataDir>/projections/` holds, for `causeway stats`; reads without writing. */
export function projectionSnapshotStats(dataDir: string): ProjectionSnapshotStats {
  const dir = path.join(dataDir, 'projections')
  let names: string[]
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith(SNAPSHOT_SUFFIX)).sort()
  } catch {
    names = []
  }
  const epoch = readEpoch(dataDir)
  const files = names.map((n): ProjectionSnapshotFile => {
    const file = path.join(dir, n)
    const bytes = fs.statSync(file).size
    const c = readSnapshot(file)
    if (c === undefined || 'invalid' in c) return { file: n, bytes, name: null, version: null, entities: 0, current: false, invalid: c ? c.invalid : 'gone' }
    return { file: n, bytes, name: c.name, version: c.version, entities: c.entries.size, current: c.epoch === epoch.epoch && epoch.busyPid === null }
  })
  return { count: files.length, bytes: files.reduce((s, f) => s + f.bytes, 0), files }
}
