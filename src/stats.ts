/** The stats shape: what Store.stats() returns, and what the addon reports for it. */

export interface StoreStats {
  /** Events in the store. */
  events: number
  /** The sequence the next event will get. */
  nextSequence: bigint
  /**
   * Every event below this sequence is synced to disk. In a client or
   * read-only process: what the writer last said it synced (its notes, a
   * sync() reply, a durable receipt), or what the segment headers prove.
   */
  durableSequence: bigint
  segments: number
  /** Bytes of log on disk. */
  bytes: number
  /** Resident bytes of the in-memory index. */
  indexBytes: number
  entities: number
  scopes: number
  /** When the last sync finished, or null before the first. */
  lastSyncAt: Date | null
  syncs: number
  syncErrors: number
  /** Bytes of torn, never-synced tail cut off when this store was opened. */
  recoveredTornBytes: number
  /** The index was loaded from the checkpoint written at the last close, not rebuilt by a scan. */
  openedFromCheckpoint: boolean
  /** Sealed segments whose index rows came from their footer at open (instead of a scan). */
  footersLoaded: number
  /** Sealed segments an open without a usable checkpoint took from their index files, their frames unread. */
  indexFilesLoaded: number
  /**
   * Of `indexFiles`, those whose body has been checked (CRC and structure)
   * in this open. An open from the checkpoint checks a file's header only:
   * the rest before its first use, and a writer checks them all beside the
   * appends (rebuilding one that fails).
   */
  indexFilesChecked: number
  /**
   * Sealed segments whose event ids are looked up in their index file
   * (`<segment>.cwidx`, memory-mapped) rather than in memory; and those
   * files' bytes (paged by the kernel, not counted in `indexBytes`).
   */
  indexFiles: number
  indexFileBytes: number
  /** Salvage opens: each region that could not be read, with segment and offset. Empty otherwise. */
  damage: string[]
  /** Milliseconds the open (recovery and index load) took. */
  openMs: number
  /**
   * Who writes: 'writer' (this process), 'client' (another process; this
   * one's writes go to it), or 'read-only'. A client becomes the writer when
   * the writer process exits.
   */
  role: 'writer' | 'client' | 'read-only'
  /** Writers: client processes connected now. */
  clients: number
}

/** The names the addon gives the fields it reports in another unit. */
interface NativeNames {
  lastSyncAt: 'lastSyncUs'
  openMs: 'openMicros'
}

/**
 * StoreStats as the addon reports it (native/js_store.cc), fields in the same
 * order: sequences as numbers, the last sync in microseconds since the epoch
 * (0 before the first), the open's duration in microseconds.
 */
export type NativeStats = {
  [K in keyof StoreStats as K extends keyof NativeNames ? NativeNames[K] : K]: StoreStats[K] extends bigint | Date | null
    ? number
    : StoreStats[K]
}

/** The addon's report as StoreStats: each field converted where it stands, so the order is kept. */
export function storeStats(s: NativeStats): StoreStats {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(s)) {
    switch (k) {
      case 'nextSequence':
      case 'durableSequence':
        out[k] = BigInt(v as number)
        break
      case 'lastSyncUs':
        out['lastSyncAt'] = (v as number) > 0 ? new Date((v as number) / 1000) : null
        break
      case 'openMicros':
        out['openMs'] = (v as number) / 1000
        break
      default:
        out[k] = v
    }
  }
  return out as unknown as StoreStats
}
