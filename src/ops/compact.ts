import { InvalidArgumentError } from '../errors.js'
import type { StoredEvent } from '../event.js'
import type { NativeCompactionReport } from '../native/binding.js'
import { compactionChannel } from '../metrics/channels.js'
import { Store } from '../store.js'
import { checkOptions, optionKeys } from '../strict.js'
import { TYPE_KIND } from '../types/registry.js'
import { withCompactionEpoch } from '../projection/epoch.js'

export interface CompactOptions {
  /**
   * 'merge': one file for many sealed segments, nothing dropped.
   * 'retention': drop the events `keep` rejects.
   * 'tombstone': keep every frame, but empty the payload of rejected events.
   */
  strategy: 'merge' | 'retention' | 'tombstone'
  /** Decides per sealed event (required for retention and tombstone). */
  keep?: (event: StoredEvent) => boolean
  /** Do nothing unless at least this many sealed segments exist. @defaultValue 2 */
  minSegments?: number
}

export const COMPACT_OPTION_KEYS = optionKeys<CompactOptions>()(['strategy', 'keep', 'minSegments'])

/** What compact() did (segment ids of the merged range are internal and left out). */
export type CompactionReport = Omit<NativeCompactionReport, 'firstSegment' | 'lastSegment'>

declare module '../store.js' {
  interface Store {
    /**
     * Rewrites sealed segments (never the active one) while appends go on.
     * Payload bytes of survivors stay byte-identical, idempotency keys of
     * dropped events stay known, and a crash at any step leaves the old or
     * the new generation on reopen.
     */
    compact(options: CompactOptions): CompactionReport
  }
}

const SCAN_PAGE = 8192

/** The options, checked and normalised once; compact and compactAsync share them. */
export function checkCompactOptions(
  options: CompactOptions,
  method = 'compact',
  accepted: readonly string[] = COMPACT_OPTION_KEYS,
): Required<Pick<CompactOptions, 'strategy' | 'minSegments'>> & Pick<CompactOptions, 'keep'> {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`${method} expects an options object`)
  checkOptions(method, options, accepted)
  const { strategy, keep } = options
  if (strategy !== 'merge' && strategy !== 'retention' && strategy !== 'tombstone') {
    throw new InvalidArgumentError(`strategy must be 'merge', 'retention' or 'tombstone', got ${String(strategy)}`)
  }
  if (strategy !== 'merge' && typeof keep !== 'function') {
    throw new InvalidArgumentError(`the ${strategy} strategy needs a keep(event) function`)
  }
  const minSegments = options.minSegments ?? 2
  if (!Number.isInteger(minSegments) || minSegments < 1) throw new InvalidArgumentError('minSegments must be a positive integer')
  return { strategy, minSegments, ...(keep ? { keep } : {}) }
}

/**
 * One page of the policy pass: runs keep() over the sealed events from
 * `from` on, adding the rejected sequences (never a type registry entry). Returns where the next page
 * starts, or undefined when the sealed range is done.
 */
export function policyPage(store: Store, keep: (e: StoredEvent) => boolean, from: number, toSequence: number, limit: number, rejected: number[]): number | undefined {
  const page = store.readFiltered({ fromSequence: from, limit })
  if (page.length === 0) return undefined
  for (const e of page) {
    const seq = Number(e.globalSequence)
    if (seq >= toSequence) return undefined
    // The type registry's entries are never dropped or emptied: events of every age name their kinds.
    if (!e.tombstoned && e.kind.value !== TYPE_KIND.value && !keep(e)) rejected.push(seq)
  }
  const next = Number(page[page.length - 1]!.globalSequence) + 1
  return next < toSequence ? next : undefined
}

Store.prototype.compact = function (this: Store, options: CompactOptions): CompactionReport {
  if (!compactionChannel.hasSubscribers) return compactNow(this, options)
  return compactionChannel.traceSync(() => compactNow(this, options), { dataDir: this.dataDir, op: 'compact' })
}

function compactNow(store: Store, options: CompactOptions): CompactionReport {
  const h = store.nativeHandle()
  const { strategy, keep, minSegments } = checkCompactOptions(options)
  const sealed = h.sealedInfo()
  const rejected: number[] = []
  if (strategy !== 'merge' && sealed.segments >= minSegments) {
    // Policy runs here, over decoded events; the addon only moves bytes.
    for (let from: number | undefined = sealed.fromSequence; from !== undefined && from < sealed.toSequence; ) {
      from = policyPage(store, keep!, from, sealed.toSequence, SCAN_PAGE, rejected)
    }
  }
  const drops = strategy !== 'merge' && sealed.segments >= minSegments
  const raw = withCompactionEpoch(store, drops, () => h.compact(strategy, sealed.lastId, minSegments, Float64Array.from(rejected)))
  const { firstSegment: _first, lastSegment: _last, ...report } = raw
  return report
}
