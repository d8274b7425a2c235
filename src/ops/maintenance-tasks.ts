import * as fs from 'node:fs'
import * as path from 'node:path'
import { dirModeFor } from '../options.js'
import type { Store } from '../store.js'
import { yieldToLoop } from './long-op.js'
import type { MaintenanceCompactOptions, MaintenanceSnapshotOptions } from './maintenance-options.js'
import { policyPage } from './compact.js'
import type { CompactionReport } from './compact.js'
import type { SnapshotReport } from './snapshot.js'
import './compact-async.js'
import './snapshot-async.js'
import { processAlive } from '../process-alive.js'

/** Names maintenance gives its snapshots: only directories named so are ever pruned. */
const SNAPSHOT_RE = /^snapshot-\d{8}T\d{9}Z-\d+$/
/** What a snapshot killed midway leaves: the engine's "<dest>.tmp-<pid>". */
const LEFTOVER_RE = /^snapshot-\d{8}T\d{9}Z-\d+\.tmp-(\d+)$/

/** keep() verdicts over the sealed events seen so far, for `deadFraction`; reset by each compaction. */
export interface DeadCount {
  /** Sealed events from this sequence on are not counted yet. */
  next: number
  total: number
  dead: number
}

const PAGE = 1024

/** Counts the sealed events not yet counted, a page per turn of the event loop. */
async function countDead(store: Store, keep: MaintenanceCompactOptions['keep'], d: DeadCount, stopped: () => boolean): Promise<void> {
  const sealed = store.nativeHandle().sealedInfo()
  if (d.next < sealed.fromSequence) d.next = sealed.fromSequence
  while (d.next < sealed.toSequence && !stopped()) {
    const rejected: number[] = []
    const from = d.next
    const next = policyPage(store, keep!, from, sealed.toSequence, PAGE, rejected)
    const to = next ?? sealed.toSequence
    d.total += to - from
    d.dead += rejected.length
    d.next = to
    await yieldToLoop()
  }
}

/** Whether the compaction's condition holds now. */
export async function compactionDue(store: Store, c: MaintenanceCompactOptions, d: DeadCount, stopped: () => boolean): Promise<boolean> {
  const sealed = store.nativeHandle().sealedInfo()
  if ('sealedSegments' in c.when) return sealed.segments >= c.when.sealedSegments
  if (sealed.segments < 1) return false
  await countDead(store, c.keep, d, stopped)
  return d.total > 0 && d.dead / d.total >= c.when.deadFraction
}

export function runCompaction(store: Store, c: MaintenanceCompactOptions, signal: AbortSignal): Promise<CompactionReport> {
  // minSegments 1: the condition above already decided that it is worth it.
  return store.compactAsync({ strategy: c.strategy, ...(c.keep ? { keep: c.keep } : {}), minSegments: 1, signal })
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('.', '')
}

/** One snapshot into a new directory under `to`. */
export function runSnapshot(store: Store, s: MaintenanceSnapshotOptions, signal: AbortSignal): Promise<SnapshotReport> {
  fs.mkdirSync(s.to, { recursive: true, mode: dirModeFor(store.fileMode) })
  const dest = path.join(s.to, `snapshot-${stamp(new Date())}-${store.nativeHandle().nextSequence()}`)
  return store.snapshotAsync(dest, { signal })
}

/** The maintenance snapshots under `to`, oldest first. */
export function listSnapshots(to: string): string[] {
  let names: string[]
  try {
    names = fs.readdirSync(to)
  } catch {
    return []
  }
  return names.filter((n) => SNAPSHOT_RE.test(n)).sort()
}

/** When the newest snapshot under `to` was taken (ms), or 0. */
export function newestSnapshotAt(to: string): number {
  const all = listSnapshots(to)
  const last = all[all.length - 1]
  if (!last) return 0
  const m = /^snapshot-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(last)
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!) : 0
}

/**
 * Removes all but the newest `keep` snapshots, and the temporary directories
 * of snapshots killed midway (their process gone, or this one between two
 * of its tasks); returns the snapshots' names.
 */
export function pruneSnapshots(to: string, keep: number): string[] {
  const all = listSnapshots(to)
  const gone = all.slice(0, Math.max(0, all.length - keep))
  for (const n of gone) fs.rmSync(path.join(to, n), { recursive: true, force: true })
  for (const n of fs.readdirSync(to)) {
    const m = LEFTOVER_RE.exec(n)
    if (m && (Number(m[1]) === process.pid || !processAlive(Number(m[1])))) fs.rmSync(path.join(to, n), { recursive: true, force: true })
  }
  return gone
}
