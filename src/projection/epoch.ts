import * as fs from 'node:fs'
import * as path from 'node:path'
import type { Store } from '../store.js'
import { projectionsDir, writeAtomically } from './atomic-file.js'
import { processAlive } from '../process-alive.js'

/**
 * The compaction epoch: `<dataDir>/projections/compaction.epoch`, bumped
 * before and after every compaction that may drop or empty events. A
 * projection snapshot records the epoch its states were folded under and is
 * used only while the epoch is unchanged, so a state that folded an event a
 * compaction dropped since is never reused. `busyPid` names the process
 * compacting now: no snapshot is written meanwhile.
 */
export interface Epoch {
  epoch: number
  busyPid: number | null
}

/** A file that cannot be read as an epoch: no snapshot matches it, none is written until the next bump. */
export const UNKNOWN_EPOCH: Epoch = Object.freeze({ epoch: -1, busyPid: null })

function fileOf(dataDir: string): string {
  return path.join(dataDir, 'projections', 'compaction.epoch')
}

export function readEpoch(dataDir: string): Epoch {
  let text: string
  try {
    text = fs.readFileSync(fileOf(dataDir), 'utf8')
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? { epoch: 0, busyPid: null } : UNKNOWN_EPOCH
  }
  try {
    const v = JSON.parse(text) as Partial<Epoch>
    if (Number.isSafeInteger(v.epoch) && v.epoch! >= 0 && (v.busyPid === null || Number.isSafeInteger(v.busyPid))) {
      return { epoch: v.epoch!, busyPid: v.busyPid! }
    }
  } catch {
    // fall through: unreadable
  }
  return UNKNOWN_EPOCH
}

function write(dataDir: string, fileMode: number, e: Epoch): void {
  projectionsDir(dataDir, fileMode, true)
  writeAtomically(fileOf(dataDir), Buffer.from(JSON.stringify(e)), fileMode)
}

/** Before a compaction: a new epoch, marked busy by this process. */
export function beginCompactionEpoch(dataDir: string, fileMode: number): void {
  const cur = readEpoch(dataDir)
  write(dataDir, fileMode, { epoch: Math.max(cur.epoch, 0) + 1, busyPid: process.pid })
}

/** After it (done, failed or aborted): another new epoch, so states folded while it ran are not written under it. */
export function endCompactionEpoch(dataDir: string, fileMode: number): void {
  const cur = readEpoch(dataDir)
  write(dataDir, fileMode, { epoch: Math.max(cur.epoch, 0) + 1, busyPid: null })
}

/**
 * The epoch a snapshot may be written under now, or undefined when none may:
 * a compaction runs, or the file is unreadable. A compaction whose process
 * died midway is closed here with a bump (what was folded meanwhile is not
 * written), when this process may write.
 */
export function writableEpoch(dataDir: string, fileMode: number): number | undefined {
  const cur = readEpoch(dataDir)
  if (cur.epoch < 0) return undefined
  if (cur.busyPid === null) return cur.epoch
  if (cur.busyPid === process.pid || processAlive(cur.busyPid)) return undefined
  endCompactionEpoch(dataDir, fileMode)
  return undefined
}

/**
 * Runs a compaction between the two bumps (when it may drop or empty events
 * and the store may write: a read-only open is refused by the engine and
 * writes nothing here).
 */
export function withCompactionEpoch<R>(store: Store, drops: boolean, run: () => R): R {
  if (!drops || store.readOnly) return run()
  beginCompactionEpoch(store.dataDir, store.fileMode)
  try {
    return run()
  } finally {
    endCompactionEpoch(store.dataDir, store.fileMode)
  }
}

export async function withCompactionEpochAsync<R>(store: Store, drops: boolean, run: () => Promise<R>): Promise<R> {
  if (!drops || store.readOnly) return run()
  beginCompactionEpoch(store.dataDir, store.fileMode)
  try {
    return await run()
  } finally {
    endCompactionEpoch(store.dataDir, store.fileMode)
  }
}
