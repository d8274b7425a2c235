import * as fs from 'node:fs'
import { projectionSnapshotChannel } from '../metrics/channels.js'
import type { Store } from '../store.js'
import { projectionsDir } from './atomic-file.js'
import { type CacheEntry, cacheDelete, cacheEntriesOf } from './cache.js'
import { readEpoch, writableEpoch } from './epoch.js'
import { type SnapshotContent, type SnapshotEntry, readSnapshot, snapshotFile, writeSnapshot } from './snapshot-file.js'
import type { NormalizedSnapshotOptions } from './snapshot-options.js'
import { packState, unpackState, unstorable } from './state-codec.js'

/** Counts of this open, for diagnostics() and tests. */
export interface ProjectionSnapshotCounters {
  /** Snapshot files written. */
  written: number
  /** Entities whose fold started from a snapshot. */
  reused: number
  /** Files or entries not reused: torn or flipped (CRC), another version, a compaction since, the event at their position changed. */
  ignored: number
  /** States left out of a snapshot because they cannot be stored (see state-codec.ts). */
  skipped: number
}

/** One projection (name, version, kinds) as persisted. */
interface Tracked {
  pkey: string
  name: string
  version: number
  kinds: number[] | null
  file: string
  /** The file's content as last read or written, while it is usable; its stat then. */
  content: SnapshotContent | undefined
  seen: string | undefined
  /** Events applied to this projection's states since its file was last written. */
  pending: number
}

/** Size of an entry besides its state, for maxBytes: entity, sequences, id and framing. */
const ENTRY_OVERHEAD = 96

/** The persisted projection states of one open store. @internal */
export class ProjectionSnapshots {
  readonly counters: ProjectionSnapshotCounters = { written: 0, reused: 0, ignored: 0, skipped: 0 }
  private readonly tracked = new Map<string, Tracked>()
  private readonly dir: string
  /** The compaction epoch as this process last read it: fresh folds are tagged with it. */
  epoch: number

  constructor(
    private readonly store: Store,
    private readonly opts: NormalizedSnapshotOptions,
  ) {
    this.dir = projectionsDir(store.dataDir, store.fileMode, false)
    this.epoch = readEpoch(store.dataDir).epoch
  }

  private track(pkey: string, name: string, version: number, kinds: readonly number[] | undefined): Tracked {
    let t = this.tracked.get(pkey)
    if (!t) {
      const k = kinds ? [...kinds].sort((a, b) => a - b) : null
      t = { pkey, name, version, kinds: k, file: snapshotFile(this.dir, name, version, k), content: undefined, seen: undefined, pending: 0 }
      this.tracked.set(pkey, t)
    }
    return t
  }

  private report(t: Tracked, event: 'written' | 'ignored' | 'skipped', extra: Record<string, unknown>): void {
    if (event === 'ignored') this.counters.ignored++
    if (projectionSnapshotChannel.hasSubscribers) {
      projectionSnapshotChannel.publish({ dataDir: this.store.dataDir, projection: `${t.name}@${t.version}`, event, ...extra })
    }
  }

  /** The file's content when it may be used now (read again when it changed on disk). */
  private usable(t: Tracked): SnapshotContent | undefined {
    let stat: fs.Stats
    try {
      stat = fs.statSync(t.file)
    } catch {
      t.content = undefined
      return undefined
    }
    const seen = `${stat.mtimeMs}:${stat.size}:${stat.ino}`
    if (seen !== t.seen) {
      t.seen = seen
      t.content = undefined
      const c = readSnapshot(t.file)
      if (c === undefined) return undefined
      if ('invalid' in c) {
        this.report(t, 'ignored', { reason: c.invalid })
        return undefined
      }
      if (c.name !== t.name || c.version !== t.version || String(c.kinds) !== String(t.kinds)) {
        this.report(t, 'ignored', { reason: `the file holds ${c.name}@${c.version}` })
        return undefined
      }
      t.content = c
    }
    const c = t.content
    if (!c) return undefined
    const now = readEpoch(this.store.dataDir)
    if (now.epoch !== c.epoch || now.busyPid !== null) {
      this.report(t, 'ignored', { reason: `taken before a compaction (epoch ${c.epoch}, now ${now.epoch}${now.busyPid !== null ? ', compacting' : ''})` })
      t.content = undefined
      return undefined
    }
    return c
  }

  /** A cache entry for the entity from its snapshot, checked against the log; undefined when there is none to trust. */
  lookup(pkey: string, name: string, version: number, kinds: readonly number[] | undefined, entity: string): CacheEntry | undefined {
    const t = this.track(pkey, name, version, kinds)
    const c = this.usable(t)
    const e = c?.entries.get(entity)
    if (!c || !e) return undefined
    // The event the state was folded up to must still be the same one: another store's files, a restored older copy, or a rewritten log fail here.
    const at = this.store.readFiltered({ fromSequence: Number(e.scanned), beforeSequence: Number(e.scanned) + 1, limit: 1 })[0]
    if (!at || at.eventId !== e.eventId || at.globalSequence !== e.scanned) {
      this.report(t, 'ignored', { reason: `the event at sequence ${e.scanned} is not the one folded`, entity })
      c.entries.delete(entity)
      return undefined
    }
    let state: unknown
    try {
      state = unpackState(e.state)
    } catch (err) {
      this.report(t, 'ignored', { reason: `state undecodable: ${(err as Error).message}`, entity })
      return undefined
    }
    this.counters.reused++
    return { state, position: e.position, scanned: e.scanned, at: 0, eventId: e.eventId, epoch: c.epoch }
  }

  /** Forgets what was read (the store's reads changed: an upcaster or a type version); files are read again on use. */
  forget(): void {
    for (const t of this.tracked.values()) {
      t.content = undefined
      t.seen = undefined
    }
  }

  /** Events were applied to the projection's states; writes its file once `every` accumulated. */
  applied(pkey: string, name: string, version: number, kinds: readonly number[] | undefined, n: number): void {
    if (n === 0 || this.store.readOnly) return
    const t = this.track(pkey, name, version, kinds)
    t.pending += n
    if (t.pending >= this.opts.every) this.write(t)
  }

  /** Writes every projection with unwritten applies (at close). */
  flush(): void {
    if (this.store.readOnly) return
    for (const t of this.tracked.values()) if (t.pending > 0) this.write(t)
  }

  private write(t: Tracked): void {
    const epoch = writableEpoch(this.store.dataDir, this.store.fileMode)
    this.epoch = epoch ?? readEpoch(this.store.dataDir).epoch
    if (epoch === undefined) return
    t.pending = 0
    const fresh = new Map<string, SnapshotEntry>()
    const stale: string[] = []
    for (const [entity, e] of cacheEntriesOf(this.store, t.pkey)) {
      if (e.epoch !== epoch) stale.push(entity)
      if (e.epoch !== epoch || e.scanned === null || e.eventId === undefined) continue
      const why = unstorable(e.state)
      if (why) {
        this.counters.skipped++
        this.report(t, 'skipped', { entity, reason: why })
        continue
      }
      fresh.set(entity, { scanned: e.scanned, position: e.position, eventId: e.eventId, state: packState(e.state) })
    }
    // Folded before a compaction since: they may hold dropped events. The next project() folds them afresh, under this epoch.
    for (const entity of stale) cacheDelete(this.store, entity + t.pkey)
    const entries = this.merge(t, epoch, fresh)
    projectionsDir(this.store.dataDir, this.store.fileMode, true)
    const content: SnapshotContent = { name: t.name, version: t.version, kinds: t.kinds, epoch, writtenAt: Date.now(), entries }
    try {
      const bytes = writeSnapshot(t.file, content, this.store.fileMode)
      this.counters.written++
      t.content = content
      t.seen = undefined
      this.report(t, 'written', { bytes, entities: entries.size })
    } catch (err) {
      this.report(t, 'skipped', { reason: `write failed: ${(err as Error).message}` })
    }
  }

  /**
   * This process's entries over what the file holds now (another process may
   * have written it), the newer of two per entity; then the least recently
   * used dropped until the file fits maxBytes.
   */
  private merge(t: Tracked, epoch: number, fresh: Map<string, SnapshotEntry>): Map<string, SnapshotEntry> {
    const onDisk = readSnapshot(t.file)
    const all = new Map<string, SnapshotEntry>()
    if (onDisk && !('invalid' in onDisk) && onDisk.epoch === epoch && onDisk.name === t.name && onDisk.version === t.version) {
      for (const [entity, e] of onDisk.entries) if (!fresh.has(entity) || fresh.get(entity)!.scanned < e.scanned) all.set(entity, e)
    }
    for (const [entity, e] of fresh) if (!all.has(entity)) all.set(entity, e)
    let bytes = 64 + t.name.length
    const sizes: Array<[string, number]> = []
    for (const [entity, e] of all) {
      const n = ENTRY_OVERHEAD + Buffer.byteLength(entity) + e.state.byteLength
      sizes.push([entity, n])
      bytes += n
    }
    // Oldest first: the file's own entries, then this process's from least recently used.
    for (let i = 0; bytes > this.opts.maxBytes && i < sizes.length; i++) {
      all.delete(sizes[i]![0])
      bytes -= sizes[i]![1]
    }
    return all
  }
}
