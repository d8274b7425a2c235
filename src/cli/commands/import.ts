import * as fs from 'node:fs'
import * as path from 'node:path'
import * as readline from 'node:readline'
import type { Command } from 'commander'
import { checkPayload, decodePayload, renamedKeyIn } from '../../codec.js'
import { type BatchItem, Coordinate, isCausewayError, type Store } from '../../index.js'
import { blake3Hex } from '../../native/loader.js'
import { Exit, Failure, UsageError } from '../errors.js'
import { parseKind } from '../kinds.js'
import { count, print, printJson, table } from '../output.js'
import { DEFAULT_FILE_MODE, dirModeFor } from '../../options.js'
import { FILE_MODE_HELP, fileMode, integer } from '../parse.js'
import { interactive, progress } from '../progress.js'
import { openStore } from '../store-dir.js'
import { type ExtrasLine, readExtras } from '../import-extras.js'
import { STORED_VERSION } from '../../stored-version.js'
import { TYPE_KIND } from '../../types/registry.js'

interface ImportOpts {
  batchSize: number
  json?: boolean
  fileMode?: number
}

/** A line of `causeway export`, or a hand-written one (then `payload` instead of `payloadBytes`). */
interface Line extends ExtrasLine {
  eventId?: string
  coordinate?: { entity?: unknown; scope?: unknown }
  entity?: unknown
  scope?: unknown
  kind?: unknown
  payloadBytes?: unknown
  payload?: unknown
  correlationId?: unknown
  causationId?: unknown
  contentHash?: unknown
  tombstoned?: unknown
}

/** Where an item of the pending batch came from. */
interface Origin {
  line: number
  eventId: string | undefined
  contentHash: string | undefined
}

/** The largest payload import accepts (the store's own upper bound for maxPayloadBytes). */
const MAX_PAYLOAD = 64 << 20
/** A batch is appended once its payloads reach this size (a batch must fit in one segment). */
const BATCH_BYTES = 4 << 20

class Importer {
  readonly report = {
    lines: 0,
    imported: 0,
    typesDefined: 0,
    skippedReserved: 0,
    skippedKinds: {} as Record<string, number>,
    tombstonedAsNull: 0,
    occurredAtFromRecordTime: 0,
    causationKept: 0,
    causationDropped: 0,
    reencoded: [] as Array<{ line: number; eventId: string | undefined; newEventId: string }>,
  }
  /** Source event id -> id in the target store, for events imported earlier in this file. */
  private readonly ids = new Map<string, string>()
  /** Source event id -> index in the pending batch. */
  private readonly pendingIds = new Map<string, number>()
  private items: BatchItem[] = []
  private origins: Origin[] = []
  private bytes = 0

  private store: Store | undefined

  /** `open` runs at the first append, so input that fails early leaves no new store behind. */
  constructor(
    private readonly open: () => Store,
    private readonly batchSize: number,
  ) {}

  /** Syncs and closes the target store, when it was opened. */
  close(sync: boolean): void {
    const s = this.store
    this.store = undefined
    if (!s) return
    try {
      if (sync) s.sync()
    } finally {
      s.close()
    }
  }

  add(text: string, n: number): void {
    this.report.lines++
    let line: Line
    try {
      line = JSON.parse(text) as Line
    } catch {
      throw new Failure(`line ${n}: not JSON`)
    }
    if (typeof line !== 'object' || line === null) throw new Failure(`line ${n}: not a JSON object`)
    const entity = line.coordinate?.entity ?? line.entity
    const scope = line.coordinate?.scope ?? line.scope
    if (typeof entity !== 'string' || typeof scope !== 'string') throw new Failure(`line ${n}: needs coordinate.entity and coordinate.scope strings`)
    if (typeof line.kind !== 'number' && typeof line.kind !== 'string') throw new Failure(`line ${n}: needs a kind (4097, "0x1001" or "1:1")`)
    let kind
    try {
      kind = parseKind(line.kind)
    } catch (e) {
      throw new Failure(`line ${n}: ${(e as Error).message}`)
    }
    const eventId = typeof line.eventId === 'string' ? line.eventId : undefined
    if (kind.value === TYPE_KIND.value) return this.defineType(line, n)
    if (kind.reserved) {
      // The store's own events (system, effects) cannot be appended by users; events they caused lose that link.
      this.report.skippedReserved++
      this.report.skippedKinds[kind.toString()] = (this.report.skippedKinds[kind.toString()] ?? 0) + 1
      return
    }
    let payload: unknown
    let contentHash: string | undefined
    let size: number
    if (line.tombstoned === true) {
      // Compaction emptied this payload: the event comes over with a null payload, keeping its place in causal chains.
      payload = null
      size = 1
      this.report.tombstonedAsNull++
    } else if (line.payloadBytes !== undefined) {
      if (typeof line.payloadBytes !== 'string') throw new Failure(`line ${n}: payloadBytes must be base64 text`)
      const bytes = Buffer.from(line.payloadBytes, 'base64')
      if (typeof line.contentHash === 'string') {
        if (blake3Hex(bytes) !== line.contentHash) {
          throw new Failure(`line ${n}: payloadBytes do not hash to the line's contentHash: the export is damaged`)
        }
        contentHash = line.contentHash
      }
      const renamed = renamedKeyIn(bytes)
      if (renamed !== undefined) this.refuse(n, `${renamed} is a key named "__proto__", which cannot be stored: it reads back renamed`)
      payload = decodePayload(bytes)
      size = bytes.length
    } else if ('payload' in line) {
      payload = line.payload
      try {
        checkPayload(payload)
      } catch (e) {
        if (!isCausewayError(e, 'E_INVALID_PAYLOAD')) throw e
        this.refuse(n, e.message)
      }
      size = Buffer.byteLength(JSON.stringify(payload) ?? '')
    } else {
      throw new Failure(`line ${n}: needs payloadBytes (base64 MessagePack) or payload`)
    }
    let coord: Coordinate
    try {
      coord = new Coordinate(entity, scope)
    } catch (e) {
      throw new Failure(`line ${n}: ${(e as Error).message}`)
    }
    if (this.items.length > 0 && (this.items.length >= this.batchSize || this.bytes + size > BATCH_BYTES)) this.flush()
    const extras = readExtras(line, n)
    const item: BatchItem & { [STORED_VERSION]?: number } = { coord, kind, payload }
    if (extras.occurredAt !== undefined) item.occurredAt = extras.occurredAt
    if (extras.fromRecordTime) this.report.occurredAtFromRecordTime++
    if (extras.tags !== undefined && extras.tags.length > 0) item.tags = extras.tags
    if (extras.storedVersion !== 1) item[STORED_VERSION] = extras.storedVersion
    if (typeof line.correlationId === 'string') item.correlationId = line.correlationId
    if (typeof line.causationId === 'string') {
      const prior = this.pendingIds.get(line.causationId)
      const mapped = prior === undefined ? this.ids.get(line.causationId) : undefined
      if (prior !== undefined) item.causation = { priorItem: prior }
      else if (mapped !== undefined) item.causation = mapped
      if (prior !== undefined || mapped !== undefined) this.report.causationKept++
      else this.report.causationDropped++
    }
    if (eventId !== undefined) this.pendingIds.set(eventId, this.items.length)
    this.items.push(item)
    this.origins.push({ line: n, eventId, contentHash })
    this.bytes += size
  }

  /**
   * A type registry entry: recorded in the target with the same name, kind
   * and schema fingerprint, after the lines before it, so the events of
   * its kind read back with its name. A name or kind the target has
   * otherwise stops the import.
   */
  private defineType(line: Line, n: number): void {
    const p = (typeof line.payloadBytes === 'string' ? decodePayload(Buffer.from(line.payloadBytes, 'base64')) : line.payload) as {
      name?: unknown
      kind?: unknown
      fingerprint?: unknown
    } | null
    if (typeof p !== 'object' || p === null || typeof p.name !== 'string' || typeof p.kind !== 'number') {
      throw new Failure(`line ${n}: a type registry entry needs a payload { name, kind, fingerprint }`)
    }
    this.flush()
    this.store ??= this.open()
    let kind
    try {
      kind = parseKind(p.kind)
      if (!this.store.types.restore(p.name, kind, typeof p.fingerprint === 'string' ? p.fingerprint : null)) {
        throw new Failure(`type ${p.name} (kind ${kind}) conflicts with the target store's type registry`)
      }
    } catch (e) {
      const why = isCausewayError(e) ? `${e.code}: ${e.message}` : (e as Error).message
      throw new Failure(`line ${n}: ${why}; ${this.report.imported} events before it were imported`)
    }
    this.report.typesDefined++
  }

  /** A line whose payload the store would refuse (or change): nothing from its batch on is imported. */
  private refuse(n: number, why: string): never {
    throw new Failure(
      `line ${n}: E_INVALID_PAYLOAD: ${why}; the line and its batch were not imported (${this.report.imported} events before them were)`,
    )
  }

  /** Appends the pending items as one atomic batch. */
  flush(): void {
    if (this.items.length === 0) return
    const first = this.origins[0]!.line
    const last = this.origins[this.origins.length - 1]!.line
    let receipts
    try {
      this.store ??= this.open()
      receipts = this.store.appendBatch(this.items)
    } catch (e) {
      const why = isCausewayError(e) ? `${e.code}: ${e.message}` : String(e)
      throw new Failure(`lines ${first}..${last} were not imported (${why}); ${this.report.imported} events before them were`)
    }
    receipts.forEach((r, i) => {
      const o = this.origins[i]!
      if (o.eventId !== undefined) this.ids.set(o.eventId, r.eventId)
      if (o.contentHash !== undefined && r.contentHash !== o.contentHash) this.report.reencoded.push({ line: o.line, eventId: o.eventId, newEventId: r.eventId })
    })
    this.report.imported += receipts.length
    this.items = []
    this.origins = []
    this.pendingIds.clear()
    this.bytes = 0
  }
}

/** The input stream and its size in bytes when known (a file, or stdin redirected from one). */
function input(file: string): { stream: NodeJS.ReadableStream; size: number } {
  if (file === '-') {
    const st = fs.fstatSync(0)
    return { stream: process.stdin, size: st.isFile() ? st.size : 0 }
  }
  const abs = path.resolve(file)
  if (!fs.existsSync(abs)) throw new UsageError(`no file ${file}`)
  return { stream: fs.createReadStream(abs), size: fs.statSync(abs).size }
}

export function importCommand(program: Command): void {
  program
    .command('import')
    .summary('append the events of an export to a store')
    .description('Append the events of a causeway export (JSON lines) to a store, payload bytes unchanged.')
    .argument('<file>', 'the JSON lines file, or - for stdin')
    .argument('<dir>', 'the target store directory (created when missing; opened for writing)')
    .option('--batch-size <n>', 'events per atomic batch', integer(1, 100_000), 1000)
    .option('--json', 'print the report as one JSON document')
    .option('--file-mode <octal>', `of a new store: ${FILE_MODE_HELP}`, fileMode)
    .addHelpText(
      'after',
      `
What is kept and what is new:
  kept:  coordinate (entity, scope), kind, correlationId, tags, the type
         version each event was stored with (storedVersion), and the payload:
         payloadBytes is decoded and appended again, and every event's new
         contentHash is compared with the exported one (BLAKE3 of the bytes),
         so payloads arrive byte for byte (a difference is reported, exit 1).
  new:   eventId, globalSequence, clock, timestamp and the hash chain links:
         the target store assigns them, as for any append.
  event time: both times are kept. An event's occurredAt (occurredAtUs)
         comes over as it was; an event without one gets its original record
         time (timestampUs) as its occurredAt, since its new record time is
         the import's.
  causation: a link to an event imported earlier from the same file is
         rewritten to that event's new id; a link to anything else (an event
         not in the file, or a later line) is dropped and counted.
  tombstoned: events whose payload compaction emptied come over with a
         null payload (their place in causal chains is kept).
  types: the type registry's entries (kind 0x000E) are recorded in the
         target with the same name, kind and schema fingerprint; a name or
         kind the target has otherwise stops the import.
  skipped: other events of the reserved categories (0 system, 0xD effects)
         which only the store itself writes; they are counted in the report.
Lines are appended in atomic batches (--batch-size); after an error, the
batches before it stay imported and the report says how many.
A line may be hand-written: {"coordinate": {"entity", "scope"}, "kind", "payload"}.

Examples:
  causeway import events.jsonl ./data
  causeway export ./old | causeway import - ./new`,
    )
    .action(async (file: string, dir: string, opts: ImportOpts) => {
      const { stream, size } = input(file)
      const abs = path.resolve(dir)
      if (fs.existsSync(abs)) {
        if (!fs.statSync(abs).isDirectory()) throw new UsageError(`${dir} is not a directory`)
        const names = fs.readdirSync(abs)
        if (names.length > 0 && !names.some((n) => n.endsWith('.cwseg'))) {
          throw new UsageError(`${dir} holds files but no store: import into a store or a new (or empty) directory`)
        }
      }
      const importer = new Importer(() => {
        const mode = opts.fileMode ?? DEFAULT_FILE_MODE
        fs.mkdirSync(abs, { recursive: true, mode: dirModeFor(mode) })
        return openStore(abs, false, { maxPayloadBytes: MAX_PAYLOAD, fileMode: mode })
      }, opts.batchSize)
      const bar = progress('import', size, interactive({ json: opts.json }), 'bytes')
      try {
        let n = 0
        let read = 0
        for await (const text of readline.createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
          n++
          read += Buffer.byteLength(text) + 1
          if (text.trim() === '') continue
          importer.add(text, n)
          if ((n & 255) === 0) bar.update(read)
        }
        importer.flush()
        importer.close(true)
      } finally {
        bar.stop()
        importer.close(false)
      }
      const r = importer.report
      if (opts.json) printJson({ file, dir: abs, ...r })
      else {
        print(`imported ${count(r.imported, 'event')} from ${file === '-' ? 'stdin' : file} into ${abs}`)
        const rows: Array<[string, string]> = [
          ['lines', String(r.lines)],
          ['types', `${r.typesDefined} type registry entries recorded (same names, kinds and schema fingerprints)`],
          ['causation kept', `${r.causationKept} (rewritten to the new event ids)`],
          ['causation dropped', `${r.causationDropped} (their cause was not imported before them)`],
          ['skipped', `${count(r.skippedReserved, 'event')} of reserved kinds${r.skippedReserved ? ` ${JSON.stringify(r.skippedKinds)}` : ''}`],
          ['tombstoned', `${count(r.tombstonedAsNull, 'event')} with a null payload (compaction had emptied them)`],
          ['event time', `${count(r.occurredAtFromRecordTime, 'event')} without occurredAt keep their original record time as occurredAt`],
          ['payload bytes', r.reencoded.length === 0 ? 'identical for every event with a contentHash' : `${r.reencoded.length} re-encoded differently`],
        ]
        print(table(rows, '  '))
        for (const x of r.reencoded.slice(0, 10)) print(`  line ${x.line}: event ${x.eventId ?? '?'} -> ${x.newEventId}: payload bytes differ`)
      }
      if (r.reencoded.length > 0) process.exitCode = Exit.failure
    })
}
