import { GENESIS_HASH, type ChainEvent, type Hasher } from './ancestors.js'

/** An event named in a chain report. */
export interface ChainEventRef {
  eventId: string
  globalSequence: bigint
}

/** An event whose prevHash does not match its predecessor's recomputed hash. */
export interface BrokenLink extends ChainEventRef {
  /** What the event records as its predecessor's hash. */
  prevHash: string
  /** BLAKE3 of the predecessor's stored payload; null when the event claims to be first but is not. */
  parentHash: string | null
}

/** An event whose predecessor is not in the store (e.g. removed by retention). */
export interface MissingParent extends ChainEventRef {
  prevHash: string
}

/** What `store.verifyChain()` found. Empty lists mean every chain holds. */
export interface ChainReport {
  eventsChecked: number
  /** Events whose payload bytes do not hash to their recorded content hash. */
  contentMismatches: ChainEventRef[]
  brokenLinks: BrokenLink[]
  missingParents: MissingParent[]
  /** Tombstoned events: their payload was emptied by compaction, so only their links are checked. */
  tombstones: number
}

interface Head {
  clock: number
  hash: string
}

/**
 * Checks events page by page, in global-sequence order, holding one head
 * (clock and recomputed hash) per entity. Links are checked against the
 * predecessor's *recomputed* hash, so a changed payload shows up twice: as a
 * content mismatch on the event and a broken link on its successor.
 */
export class ChainVerifier {
  private readonly heads = new Map<string, Head>()
  readonly report: ChainReport = { eventsChecked: 0, contentMismatches: [], brokenLinks: [], missingParents: [], tombstones: 0 }

  constructor(private readonly hash: Hasher) {}

  check(entity: string, e: ChainEvent): void {
    const r = this.report
    const ref = { eventId: e.eventId, globalSequence: e.globalSequence }
    // A tombstone's payload is gone by design: its recorded hash is all there is to link to.
    const actual = e.tombstoned ? e.contentHash : this.hash(e.payloadBytes)
    if (e.tombstoned) r.tombstones++
    else if (actual !== e.contentHash) r.contentMismatches.push(ref)
    const head = this.heads.get(entity)
    if (head && head.clock === e.clock - 1) {
      if (e.prevHash !== head.hash) r.brokenLinks.push({ ...ref, prevHash: e.prevHash, parentHash: head.hash })
    } else if (e.prevHash === GENESIS_HASH) {
      if (e.clock !== 1) r.brokenLinks.push({ ...ref, prevHash: e.prevHash, parentHash: null })
    } else {
      r.missingParents.push({ ...ref, prevHash: e.prevHash })
    }
    this.heads.set(entity, { clock: e.clock, hash: actual })
    r.eventsChecked++
  }
}
