import type { Command } from 'commander'
import { ChainVerifier, type ChainReport } from '../../causal/verify.js'
import { isCausewayError, Region, type Store, type StoredEvent } from '../../index.js'
import * as path from 'node:path'
import { blake3Hex, native } from '../../native/loader.js'
import { Exit } from '../errors.js'
import { print, printJson, table, typesText } from '../output.js'
import { PAGE } from '../pages.js'
import { interactive, progress } from '../progress.js'
import { existingStore, openStore, segmentNames } from '../store-dir.js'

interface DamagedFrame {
  globalSequence: bigint
  message: string
}

interface VerifyReport {
  dir: string
  ok: boolean
  segments: string[]
  /** Set when the store refused to open (damage in synced data found by recovery). */
  openError: { code: string; message: string } | null
  /** Regions the salvage open could not read at all (frame boundaries lost), with segment and offset. */
  unreadable: string[]
  frames: { read: number; events: number; damaged: DamagedFrame[] } | null
  chain: (ChainReport & { by: 'Store.verifyChain' | 'causeway verify'; tombstoned: number }) | null
  /** The type registry: names and kinds. */
  types: Array<{ name: string; kind: string }>
  /** Event id -> type name, for the events a problem names (named types only). */
  typeOf: Record<string, string>
  /**
   * Each sealed segment's index file (`<segment>.cwidx`; the newest segment
   * has none): checked whole (CRCs, the segment's identity, structure). A
   * cache: one missing or damaged does not make the store damaged, and the
   * next writer open rebuilds it.
   */
  indexFiles: IndexFileState[]
}

interface IndexFileState {
  segment: string
  state: 'ok' | 'missing' | 'damaged'
  message?: string
}

/** The state of every sealed segment's index file but the newest segment's. */
function checkIndexFiles(dir: string, segments: string[]): IndexFileState[] {
  return segments.slice(0, -1).map((segment) => {
    const part = path.join(dir, segment.replace(/\.cwseg$/, '.cwidx'))
    try {
      native().indexPart.check(part, path.join(dir, segment))
      return { segment, state: 'ok' }
    } catch (e) {
      if (isCausewayError(e, 'E_NOT_FOUND')) return { segment, state: 'missing' }
      return { segment, state: 'damaged', message: e instanceof Error ? e.message : String(e) }
    }
  })
}

/**
 * Reads every event a page at a time; the addon re-checks each frame's
 * CRC32C and leaves a frame that fails out of the page, naming it (sequence,
 * segment and offset) instead of failing the read: one linear pass however
 * many frames are damaged.
 */
function scanFrames(store: Store, visit: (e: StoredEvent) => void, onProgress: (read: number) => void): { read: number; damaged: DamagedFrame[] } {
  const h = store.nativeHandle()
  const end = Number(store.stats().nextSequence)
  const damaged: DamagedFrame[] = []
  let read = 0
  for (let pos = 0; pos < end; ) {
    const page = h.scanVerified(pos, PAGE)
    const events = store.eventsFrom(page.records)
    for (const e of events) visit(e)
    for (const d of page.damaged) damaged.push({ globalSequence: BigInt(d.sequence), message: d.message })
    const lastGood = events.length ? Number(events[events.length - 1]!.globalSequence) : -1
    const lastBad = page.damaged.length ? page.damaged[page.damaged.length - 1]!.sequence : -1
    const last = Math.max(lastGood, lastBad)
    if (last < 0) break
    read += events.length
    pos = last + 1
    onProgress(read)
  }
  damaged.sort((a, b) => (a.globalSequence < b.globalSequence ? -1 : 1))
  return { read, damaged }
}

function run(dir: string, json: boolean): VerifyReport {
  const report: VerifyReport = { dir, ok: false, segments: segmentNames(dir), openError: null, unreadable: [], frames: null, chain: null, types: [], typeOf: {}, indexFiles: [] }
  let store: Store
  try {
    // Salvage: the open reads past damage (naming it) instead of refusing, so
    // the undamaged rest is checked too.
    store = openStore(dir, true, { salvage: true })
  } catch (e) {
    if (!isCausewayError(e, 'E_CORRUPTION')) throw e
    report.openError = { code: e.code, message: e.message }
    return report
  }
  try {
    report.unreadable = store.stats().damage
    const events = store.stats().events
    const bar = progress('frames', events, interactive({ json }))
    let frames: VerifyReport['frames']
    try {
      const r = scanFrames(store, () => {}, (n) => bar.update(n))
      frames = { read: r.read, events, damaged: r.damaged }
    } finally {
      bar.stop()
    }
    report.frames = frames
    let chain: ChainReport
    let by: 'Store.verifyChain' | 'causeway verify'
    if (frames.damaged.length === 0) {
      chain = store.verifyChain()
      by = 'Store.verifyChain'
    } else {
      // verifyChain throws at the first unreadable frame: check the chains of every readable event here.
      const verifier = new ChainVerifier(blake3Hex)
      scanFrames(store, (e) => verifier.check(e.coordinate.entity, e), () => {})
      chain = verifier.report
      by = 'causeway verify'
    }
    const c = (report.chain = { ...chain, by, tombstoned: chain.tombstones })
    if (frames.damaged.length === 0) {
      report.types = store.types.list().map((t) => ({ name: t.name, kind: t.kind.toString() }))
      for (const m of [...c.contentMismatches, ...c.brokenLinks]) {
        try {
          const type = store.get(m.eventId)?.type
          if (type !== undefined) report.typeOf[m.eventId] = type
        } catch {
          // Unreadable: the problem is reported without its type.
        }
      }
    }
    report.indexFiles = checkIndexFiles(dir, report.segments)
    report.ok =
      report.unreadable.length === 0 &&
      frames.damaged.length === 0 &&
      frames.read === events &&
      c.contentMismatches.length === 0 &&
      c.brokenLinks.length === 0
    return report
  } finally {
    store.close()
  }
}

function short(hash: string): string {
  return `${hash.slice(0, 16)}…`
}

function printReport(r: VerifyReport): void {
  print(`verify ${r.dir}`)
  const rows: Array<[string, string]> = [['segments', `${r.segments.length} (${r.segments[0] ?? '-'} .. ${r.segments[r.segments.length - 1] ?? '-'})`]]
  if (r.openError) {
    print(table(rows, '  '))
    print('DAMAGED: the store refuses to open (recovery found damage in synced data)')
    print(`  ${r.openError.code}: ${r.openError.message}`)
    return
  }
  const f = r.frames!
  const c = r.chain!
  rows.push(['frames', `${f.read} of ${f.events} events read, CRC32C of every frame checked${f.damaged.length ? `: ${f.damaged.length} damaged` : ''}`])
  rows.push([
    'chains',
    `${c.eventsChecked} payloads re-hashed with BLAKE3, every link to the entity's previous event checked (${c.by})`,
  ])
  rows.push(['types', typesText(r.types)])
  const bad = r.indexFiles.filter((x) => x.state !== 'ok')
  rows.push([
    'index files',
    `${r.indexFiles.length - bad.length} of ${r.indexFiles.length} sealed segments' files check` +
      (bad.length ? `; ${bad.map((x) => `${x.segment}: ${x.state}${x.message ? ` (${x.message})` : ''}`).join('; ')} (caches: the next writer open rebuilds them)` : ''),
  ])
  print(table(rows, '  '))
  const named = (id: string) => (r.typeOf[id] ? ` (${r.typeOf[id]})` : '')
  const problems: string[] = []
  for (const u of r.unreadable) problems.push(`unreadable region: ${u}`)
  for (const d of f.damaged) problems.push(`damaged frame, sequence ${d.globalSequence}: ${d.message}`)
  if (f.damaged.length === 0 && f.read !== f.events) problems.push(`the index lists ${f.events} events but ${f.read} were read`)
  for (const m of c.contentMismatches) {
    problems.push(`content hash mismatch: event ${m.eventId}${named(m.eventId)} (sequence ${m.globalSequence}): its payload does not hash to its recorded contentHash`)
  }
  for (const b of c.brokenLinks) {
    problems.push(
      b.parentHash === null
        ? `broken link: event ${b.eventId}${named(b.eventId)} (sequence ${b.globalSequence}) claims to be its entity's first event but is not`
        : `broken link: event ${b.eventId}${named(b.eventId)} (sequence ${b.globalSequence}) records prevHash ${short(b.prevHash)} but its predecessor hashes to ${short(b.parentHash)}`,
    )
  }
  const missing = c.missingParents.length
  if (c.tombstoned) print(`  (${c.tombstoned} tombstoned event${c.tombstoned === 1 ? '' : 's'}: compaction emptied the payload and kept the recorded hash, so there is nothing to re-hash)`)
  if (problems.length === 0) {
    print(`OK: no damage found${missing ? ` (${missing} chain${missing === 1 ? '' : 's'} start after events removed by retention)` : ''}`)
    return
  }
  print(`DAMAGED: ${problems.length} problem${problems.length === 1 ? '' : 's'} found`)
  for (const p of problems) print(`  ${p}`)
  if (missing) print(`  (${missing} event${missing === 1 ? '' : 's'} whose predecessor could not be read: chains checked again from there)`)
}

export function verifyCommand(program: Command): void {
  program
    .command('verify')
    .summary('check CRC32C and hash chains of every frame')
    .description("Check every frame's CRC32C and every entity's BLAKE3 hash chain; exit code 1 on damage.")
    .argument('<dir>', 'the store directory (opened read-only, no byte changes)')
    .option('--json', 'print the report as one JSON document')
    .addHelpText(
      'after',
      `
Checks, in order:
  1. opening: recovery checks sealed segments and synced data; a refusal
     (CorruptionError) is reported with the segment file and byte offset;
  2. frames: every event is read back, which re-checks each frame's CRC32C;
     every damaged frame is named (sequence, segment, offset), not just the first;
  3. chains: every payload is re-hashed (BLAKE3) against its contentHash and
     every prevHash against the entity's previous event (Store.verifyChain;
     when frames are damaged, causeway checks every readable event itself).
Events whose predecessor was removed by retention, and events tombstoned by
compaction (payload emptied, recorded hash kept), are not damage.

Exit code: 0 nothing damaged, 1 damage found (the report says where), 2 usage.

Examples:
  causeway verify ./data
  causeway verify ./data --json | jq .ok`,
    )
    .action((dir: string, opts: { json?: boolean }) => {
      const abs = existingStore(dir)
      const report = run(abs, opts.json === true)
      if (opts.json) printJson(report)
      else printReport(report)
      if (!report.ok) process.exitCode = Exit.failure
    })
}
