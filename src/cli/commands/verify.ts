import type { Command } from 'commander'
import { ChainVerifier, type ChainReport } from '../../causal/verify.js'
import { isCausewayError, Region, type Store, type StoredEvent } from '../../index.js'
import { native } from '../../native.js'
import { Exit } from '../errors.js'
import { print, printJson, table } from '../output.js'
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
  frames: { read: number; events: number; damaged: DamagedFrame[] } | null
  chain: (ChainReport & { by: 'Store.verifyChain' | 'causeway verify'; tombstoned: number }) | null
}

function readFrom(store: Store, from: bigint, max: number): StoredEvent[] {
  return store.cursor(Region.all(), { from }).pollBatch(max)
}

/**
 * Reads every event, a page at a time; each read re-checks the frame's
 * CRC32C. A page that fails is stepped through one sequence at a time: a
 * read from `q` returns the first event at or after `q`, so the largest `q`
 * that fails with a given message (segment and offset) is the damaged
 * frame's sequence. Reading resumes after it, so every damaged frame is named.
 */
function scanFrames(store: Store, visit: (e: StoredEvent) => void, onProgress: (read: number) => void): { read: number; damaged: DamagedFrame[] } {
  const end = store.stats().nextSequence
  const damaged = new Map<string, bigint>()
  let read = 0
  let pos = 0n
  while (pos < end) {
    let page: StoredEvent[]
    try {
      page = readFrom(store, pos, PAGE)
    } catch (e) {
      if (!isCausewayError(e, 'E_CORRUPTION')) throw e
      for (; pos < end; pos++) {
        try {
          readFrom(store, pos, 1)
          break
        } catch (e2) {
          if (!isCausewayError(e2, 'E_CORRUPTION')) throw e2
          damaged.set(e2.message, pos)
        }
      }
      continue
    }
    const last = page[page.length - 1]
    if (!last) break
    for (const e of page) visit(e)
    read += page.length
    pos = last.globalSequence + 1n
    onProgress(read)
  }
  return { read, damaged: [...damaged].map(([message, globalSequence]) => ({ globalSequence, message })) }
}

function blake3Hex(bytes: Uint8Array): string {
  return native().blake3(bytes).toString('hex')
}

function run(dir: string, json: boolean): VerifyReport {
  const report: VerifyReport = { dir, ok: false, segments: segmentNames(dir), openError: null, frames: null, chain: null }
  let store: Store
  try {
    store = openStore(dir, true)
  } catch (e) {
    if (!isCausewayError(e, 'E_CORRUPTION')) throw e
    report.openError = { code: e.code, message: e.message }
    return report
  }
  try {
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
    report.ok = frames.damaged.length === 0 && frames.read === events && c.contentMismatches.length === 0 && c.brokenLinks.length === 0
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
  print(table(rows, '  '))
  const problems: string[] = []
  for (const d of f.damaged) problems.push(`damaged frame, sequence ${d.globalSequence}: ${d.message}`)
  if (f.damaged.length === 0 && f.read !== f.events) problems.push(`the index lists ${f.events} events but ${f.read} were read`)
  for (const m of c.contentMismatches) {
    problems.push(`content hash mismatch: event ${m.eventId} (sequence ${m.globalSequence}): its payload does not hash to its recorded contentHash`)
  }
  for (const b of c.brokenLinks) {
    problems.push(
      b.parentHash === null
        ? `broken link: event ${b.eventId} (sequence ${b.globalSequence}) claims to be its entity's first event but is not`
        : `broken link: event ${b.eventId} (sequence ${b.globalSequence}) records prevHash ${short(b.prevHash)} but its predecessor hashes to ${short(b.parentHash)}`,
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
