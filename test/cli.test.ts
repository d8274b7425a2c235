// The causeway CLI (bin/causeway -> dist/cjs/cli/main.js) driven as a child
// process against real stores in temporary directories: outputs, exit codes,
// damage found by verify, export | import byte for byte, tail --follow, walk.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { Coordinate, EventKind, Region, Store, type StoredEvent } from '../src/index.js'
import { native } from '../src/native/loader.js'
import { repoRoot, segmentFiles, stripFooters, tempDir } from './helpers.js'

const BIN = path.join(repoRoot, 'bin/causeway')
const COMMANDS = ['stats', 'verify', 'compact', 'snapshot', 'tail', 'export', 'import', 'walk']
/** What a cli-progress bar draws (shades_classic) and the escape sequences it moves the cursor with. */
const BAR = /[\u2588\u2591]|\x1b\[/

const Placed = EventKind.custom(1, 1)
const Charged = EventKind.custom(2, 1)
const Shipped = EventKind.custom(3, 1)
const Mailed = EventKind.custom(4, 1)
const Note = EventKind.custom(5, 7)

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function cli(args: string[], input?: string): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input, maxBuffer: 64 << 20 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Runs a shell pipeline (for `export | import`). */
function sh(command: string): Run {
  const r = spawnSync('sh', ['-c', command], { encoding: 'utf8', maxBuffer: 64 << 20 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

interface Shop {
  dir: string
  /** order:1 placed -> payment:1 charged -> shipment:1 shipped + mail:1 mailed. */
  placed: string
  charged: string
  shipped: string
  mailed: string
}

/**
 * A closed store of several small segments: orders with reactions across
 * entities (payment, shipment, mail), payloads of every kind msgpack carries
 * here, entities with several events (real hash chains), one system event.
 */
function shop(segmentMaxBytes = 4096): Shop {
  const dir = tempDir('cli')
  const s = Store.open({ dataDir: dir, segmentMaxBytes })
  let first: Omit<Shop, 'dir'> | undefined
  for (let i = 1; i <= 30; i++) {
    const order = new Coordinate(`order:${i}`, 'shop')
    const p = s.append(order, Placed, {
      sku: `A-${i}`,
      qty: i,
      price: i * 1.25,
      neg: -i * 1000003,
      big: 2 ** 52 + i,
      tiny: 1e-300,
      text: 'ünïcødé ✓ 🚚'.repeat(i % 3),
      at: new Date(1_700_000_000_000 + i),
      bin: Buffer.from([i, 0, 255]),
      nested: { list: [1, 'two', null, true, { deep: [i] }], empty: {} },
    })
    const c = s.appendReaction(new Coordinate(`payment:${i}`, 'billing'), Charged, { amount: i * 9.99 }, p.correlationId, p.eventId)
    const sh = s.appendReaction(new Coordinate(`shipment:${i}`, 'shop'), Shipped, { carrier: 'post' }, p.correlationId, c.eventId)
    const m = s.appendReaction(new Coordinate(`mail:${i}`, 'shop'), Mailed, { to: `c${i}@example.com` }, p.correlationId, c.eventId)
    s.append(order, Note, { note: `second event of order:${i}` })
    s.append(order, Note, null)
    if (i === 1) first = { placed: p.eventId, charged: c.eventId, shipped: sh.eventId, mailed: m.eventId }
  }
  s.appendSystem(new Coordinate('system', 'system'), EventKind.fromValue(0x0001), { note: 'written by the store itself' })
  s.close()
  return { dir, ...first! }
}

interface Copied {
  eventId: string
  globalSequence: bigint
  coordinate: { entity: string; scope: string }
  kind: EventKind
  clock: number
  correlationId: string
  causationId: string | null
  contentHash: string
  payloadBytes: Buffer
}

/** Every event of a store, copied out (a StoredEvent needs its store open). */
function events(dir: string): Copied[] {
  const s = Store.open({ dataDir: dir, readOnly: true })
  try {
    return s.query(Region.all()).map((e: StoredEvent) => ({
      eventId: e.eventId,
      globalSequence: e.globalSequence,
      coordinate: { entity: e.coordinate.entity, scope: e.coordinate.scope },
      kind: e.kind,
      clock: e.clock,
      correlationId: e.correlationId,
      causationId: e.causationId,
      contentHash: e.contentHash,
      payloadBytes: Buffer.from(e.payloadBytes),
    }))
  } finally {
    s.close()
  }
}

/** Where the payload of the first frame of a segment file starts (frames start at 128, see FORMAT.md). */
function firstPayloadOffset(b: Buffer): number {
  return 128 + 168 + b.readUInt16LE(128 + 12) + b.readUInt16LE(128 + 14)
}

function maskedCrc(b: Buffer, frame: number): number {
  const len = b.readUInt32LE(frame)
  const crc = native().crc32c(Buffer.concat([b.subarray(frame, frame + 4), b.subarray(frame + 8, frame + len)]))
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0
}

beforeAll(() => {
  // `npm test` builds dist/ first (pretest); building here would race the other test files.
  if (!fs.existsSync(path.join(repoRoot, 'dist/cjs/cli/main.js'))) throw new Error('run `npm run build` first')
})

describe('causeway --help and usage', () => {
  it('prints help for the program and for every command, with exit code 0', () => {
    const top = cli(['--help'])
    expect(top.code).toBe(0)
    for (const c of COMMANDS) expect(top.stdout).toContain(c)
    expect(top.stdout).toContain('Exit codes: 0 done, 1 damage found or the work failed, 2 wrong usage.')
    for (const c of COMMANDS) {
      const r = cli([c, '--help'])
      expect(r.code, c).toBe(0)
      expect(r.stdout, c).toContain(`Usage: causeway ${c} [options]`)
      expect(r.stdout, c).toContain('Examples:')
    }
    expect(cli(['help', 'verify']).stdout).toContain('Usage: causeway verify')
    expect(cli(['--version']).stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version)
  })

  it('exits with 2 on a wrong command line or a path that holds no store, and creates nothing there', () => {
    const missing = path.join(tempDir('cli-none'), 'nothing-here')
    const r = cli(['stats', missing])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('no store at')
    expect(fs.existsSync(missing)).toBe(false)
    const empty = tempDir('cli-empty')
    expect(cli(['verify', empty]).code).toBe(2)
    expect(fs.readdirSync(empty)).toEqual([])
    expect(cli(['frobnicate']).code).toBe(2)
    expect(cli(['tail', empty, '--lines', 'many']).stderr).toContain("option '-n, --lines <n>' argument 'many' is invalid")
    expect(cli(['compact', empty, '--strategy', 'shred']).code).toBe(2)
  })
})

describe('causeway stats', () => {
  it('prints counts and segment files for people, and the same numbers as JSON', () => {
    const { dir } = shop()
    const human = cli(['stats', dir])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/^events\s+181$/m)
    expect(human.stdout).toMatch(/^sequences\s+0\.\.180 \(next 181\)$/m)
    expect(human.stdout).toContain('0000000000000001.cwseg')
    const json = cli(['stats', dir, '--json'])
    expect(json.code).toBe(0)
    const s = JSON.parse(json.stdout)
    expect(s).toMatchObject({ events: 181, nextSequence: '181', entities: 121, scopes: 3 })
    expect(s.segmentFiles.map((f: { name: string }) => f.name)).toEqual(segmentFiles(dir).map((f) => path.basename(f)))
    expect(s.segments).toBeGreaterThan(3)
  })
})

describe('causeway verify', () => {
  it('passes a sound store with exit code 0, quietly when piped', () => {
    const { dir } = shop()
    const r = cli(['verify', dir])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('181 of 181 events read, CRC32C of every frame checked')
    expect(r.stdout).toContain('OK: no damage found')
    expect(r.stdout + r.stderr).not.toMatch(BAR)
    const j = JSON.parse(cli(['verify', dir, '--json']).stdout)
    expect(j).toMatchObject({ ok: true, openError: null, frames: { read: 181, events: 181, damaged: [] } })
    expect(j.chain).toMatchObject({ eventsChecked: 181, contentMismatches: [], brokenLinks: [], by: 'Store.verifyChain' })
  })

  it('names the segment and offset of a flipped byte in a sealed segment, with exit code 1', () => {
    const { dir } = shop()
    const seg = segmentFiles(dir)[0]!
    expect(segmentFiles(dir).length).toBeGreaterThan(1) // segment 1 is sealed
    const b = fs.readFileSync(seg)
    b[firstPayloadOffset(b) + 3]! ^= 0x40
    fs.writeFileSync(seg, b)

    const r = cli(['verify', dir])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('DAMAGED')
    expect(r.stdout).toMatch(/0000000000000001\.cwseg offset 128\b/)
    expect(r.stdout + r.stderr).not.toMatch(BAR)
    const j = JSON.parse(cli(['verify', dir, '--json']).stdout)
    expect(j.ok).toBe(false)
    // Found by the open (recovery scanning the sealed segment) or by reading every frame back.
    const where = j.openError ? j.openError.message : j.frames.damaged.map((d: { message: string }) => d.message).join('\n')
    expect(where).toMatch(/0000000000000001\.cwseg offset 128\b/)
    if (!j.openError) {
      expect(j.frames.damaged).toHaveLength(1)
      expect(j.frames.damaged[0].globalSequence).toBe('0')
      expect(j.frames.read).toBe(180) // every other frame was still read and checked
      // Store.verifyChain would stop at the damaged frame: causeway checks the chains of every readable event.
      expect(j.chain).toMatchObject({ by: 'causeway verify', eventsChecked: 180 })
    }
  })

  it('reads past damage a plain open would refuse (no checkpoint, no footers), naming it, with exit code 1', () => {
    const { dir } = shop()
    const seg = segmentFiles(dir)[0]!
    const b = fs.readFileSync(seg)
    b[firstPayloadOffset(b)]! ^= 0x01
    fs.writeFileSync(seg, b)
    // Without the index checkpoint and the segment footers, opening scans every sealed frame.
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.ckpt')) fs.rmSync(path.join(dir, f))
    stripFooters(dir)
    expect(() => Store.open({ dataDir: dir, readOnly: true })).toThrow(/segment 0000000000000001\.cwseg offset 128\b/)
    const r = cli(['verify', dir])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/unreadable region: segment 0000000000000001\.cwseg offset 128: checksum mismatch/)
    expect(r.stdout).toMatch(/180 of 180 events read/) // every other event was read and checked
  })

  it('finds a payload changed under a recomputed CRC by its BLAKE3 content hash', () => {
    const { dir, placed } = shop()
    const seg = segmentFiles(dir)[0]!
    const b = fs.readFileSync(seg)
    b[firstPayloadOffset(b) + 5]! ^= 0x01 // inside the "sku" string
    b.writeUInt32LE(maskedCrc(b, 128), 128 + 4)
    fs.writeFileSync(seg, b)
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.ckpt')) fs.rmSync(path.join(dir, f))
    const r = cli(['verify', dir])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(`content hash mismatch: event ${placed} (sequence 0)`)
  })
})

describe('causeway export | causeway import', () => {
  it('round-trips every payload byte for byte, remaps causation, skips reserved kinds', () => {
    const a = shop()
    const target = path.join(tempDir('cli-import'), 'copy')
    const r = sh(`"${process.execPath}" "${BIN}" export "${a.dir}" --format jsonl | "${process.execPath}" "${BIN}" import - "${target}" --json`)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout + r.stderr).not.toMatch(BAR)
    const report = JSON.parse(r.stdout)
    expect(report).toMatchObject({ lines: 181, imported: 180, skippedReserved: 1, skippedKinds: { '0x0001': 1 }, reencoded: [] })
    expect(report.causationKept).toBe(90)
    expect(report.causationDropped).toBe(0)

    const src = events(a.dir).filter((e) => !e.kind.reserved)
    const dst = events(target)
    expect(dst).toHaveLength(src.length)
    const newId = new Map<string, string>()
    src.forEach((e, i) => {
      const d = dst[i]!
      expect(d.payloadBytes.equals(e.payloadBytes), `payload of sequence ${e.globalSequence}`).toBe(true)
      expect(d.contentHash).toBe(e.contentHash)
      expect(d.coordinate).toEqual(e.coordinate)
      expect(d.kind.value).toBe(e.kind.value)
      expect(d.correlationId).toBe(e.correlationId)
      expect(d.clock).toBe(e.clock)
      expect(d.eventId).not.toBe(e.eventId) // ids are the target store's own
      newId.set(e.eventId, d.eventId)
    })
    src.forEach((e, i) => expect(dst[i]!.causationId).toBe(e.causationId === null ? null : newId.get(e.causationId)))
    // The copy verifies, chains included.
    expect(cli(['verify', target]).code).toBe(0)
  })

  it('writes to a file with -o and reads it back; a damaged line is refused by its content hash', () => {
    const a = shop()
    const file = path.join(tempDir('cli-file'), 'events.jsonl')
    const ex = cli(['export', a.dir, '--entity', 'order', '-o', file, '--json'])
    expect(ex.code, ex.stderr).toBe(0)
    expect(JSON.parse(ex.stdout)).toMatchObject({ events: 90, format: 'jsonl' })
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n')
    expect(lines).toHaveLength(90)
    const first = JSON.parse(lines[0]!)
    expect(first).toMatchObject({ coordinate: { entity: 'order:1', scope: 'shop' }, kind: Placed.value, kindHex: '0x1001' })
    expect(first.payload).toMatchObject({ sku: 'A-1', bin: { $base64: Buffer.from([1, 0, 255]).toString('base64') } })

    const target = path.join(tempDir('cli-file'), 'copy')
    const im = cli(['import', file, target])
    expect(im.code, im.stderr).toBe(0)
    expect(im.stdout).toContain('imported 90 events')
    expect(im.stdout).toContain('identical for every event')

    const bad = JSON.parse(lines[1]!)
    bad.payloadBytes = Buffer.from('tampered').toString('base64')
    fs.writeFileSync(file, `${lines[0]}\n${JSON.stringify(bad)}\n`)
    const copy2 = path.join(tempDir('cli-file'), 'copy2')
    const refused = cli(['import', file, copy2])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain("line 2: payloadBytes do not hash to the line's contentHash")
    expect(fs.existsSync(copy2)).toBe(false) // refused before its first batch: no store left behind
    // A directory holding other files is not a store to import into.
    expect(cli(['import', file, path.dirname(file)]).code).toBe(2)
  })
})

describe('causeway tail', () => {
  it('prints the last events, filtered by entity, scope or kind, as lines or JSON', () => {
    const { dir } = shop()
    const last = cli(['tail', dir, '-n', '2'])
    expect(last.code).toBe(0)
    const lines = last.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^#179 \S+ order:30 @shop 0x5007 null$/)
    expect(lines[1]).toMatch(/^#180 \S+ system @system 0x0001 \{"note":"written by the store itself"\}$/)

    const payments = cli(['tail', dir, '--entity', 'payment', '-n', '3', '--json']).stdout.trimEnd().split('\n').map((l) => JSON.parse(l))
    expect(payments.map((e) => e.coordinate.entity)).toEqual(['payment:28', 'payment:29', 'payment:30'])
    const billing = cli(['tail', dir, '--scope', 'billing', '-n', '100']).stdout.trimEnd().split('\n')
    expect(billing).toHaveLength(30)
    const notes = cli(['tail', dir, '--entity', 'order:7', '--kind', '5:7', '--json']).stdout.trimEnd().split('\n').map((l) => JSON.parse(l))
    expect(notes.map((e) => e.payload)).toEqual([{ note: 'second event of order:7' }, null])
    const from = cli(['tail', dir, '--from', '178']).stdout.trimEnd().split('\n')
    expect(from.map((l) => l.split(' ')[0])).toEqual(['#178', '#179', '#180'])
  })

  it('--follow prints what a live writer appends, while the writer keeps the store open, until it is stopped', async () => {
    const { dir } = shop()
    // The writer is open before tail starts and stays open throughout: a read-only open takes no lock.
    const writer = Store.open({ dataDir: dir })
    let child: ChildProcess | undefined
    let out = ''
    let err = ''
    try {
      child = spawn(process.execPath, [BIN, 'tail', dir, '--follow', '-n', '1', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
      const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)))
      const until = async (what: () => boolean, ms: number) => {
        for (const t0 = Date.now(); !what(); ) {
          if (Date.now() - t0 > ms) throw new Error(`timed out; tail printed:\n${out}\nstderr:\n${err}`)
          await new Promise((r) => setTimeout(r, 20))
        }
      }
      try {
        await until(() => out.includes('"globalSequence":"180"'), 10_000)
        for (let i = 0; i < 3; i++) writer.append(new Coordinate(`live:${i}`, 'shop'), Note, { i })
        await until(() => out.includes('live:2'), 10_000)
        // And again, with the same writer still open: tail keeps following it.
        writer.append(new Coordinate('live:3', 'shop'), Note, { i: 3 })
        await until(() => out.includes('live:3'), 10_000)
        expect(writer.closed).toBe(false)
      } finally {
        child.kill('SIGTERM')
      }
      expect(await exited).toBe(0)
    } finally {
      writer.close()
    }
    expect(err).toBe('')
    const printed = out.trimEnd().split('\n').map((l) => JSON.parse(l))
    expect(printed.map((e) => e.globalSequence)).toEqual(['180', '181', '182', '183', '184'])
    expect(printed.slice(1).map((e) => e.payload)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }])
  })
})

describe('causeway walk', () => {
  it('draws the reaction chain across entities as a tree and checks each entity hash chain', () => {
    const a = shop()
    const r = cli(['walk', a.dir, a.charged])
    expect(r.code, r.stderr).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toBe(`causal graph of ${a.charged} (both, depth 64): 3 related events`)
    expect(lines[1]).toMatch(new RegExp(`^#0 order:1 @shop 0x1001 ${a.placed} \\{"sku":"A-1"`))
    expect(lines[2]).toMatch(new RegExp(`^└─ #1 payment:1 @billing 0x2001 ${a.charged} \\{"amount":9\\.99\\}   ◀ this event$`))
    expect(lines[3]).toMatch(new RegExp(`^   ├─ #2 shipment:1 @shop 0x3001 ${a.shipped} `))
    expect(lines[4]).toMatch(new RegExp(`^   └─ #3 mail:1 @shop 0x4001 ${a.mailed} `))
    expect(lines).toContain('hash chains:')
    expect(r.stdout).toMatch(/order:1: \d+ events? back to its first, every hash and link verified/)
    expect(r.stdout).toContain('payment:1: 1 event back to its first, every hash and link verified')

    // By global sequence, one direction, as JSON.
    const j = JSON.parse(cli(['walk', a.dir, '3', '--direction', 'causes', '--json']).stdout)
    expect(j.root).toBe(a.mailed)
    expect(j.nodes.map((n: { eventId: string }) => n.eventId)).toEqual([a.placed, a.charged, a.mailed])
    expect(j.edges).toEqual(
      expect.arrayContaining([
        { cause: a.placed, effect: a.charged },
        { cause: a.charged, effect: a.mailed },
      ]),
    )
    expect(cli(['walk', a.dir, '99999']).code).toBe(1)
  })
})

describe('causeway compact and snapshot', () => {
  it.each(['compact:replacement-partly-written', 'compact:marker-written', 'compact:first-source-removed'])(
    'killed during compaction at %s, leaves a store that opens as the old or the new generation and verifies',
    (point) => {
      const { dir } = shop()
      const all = (() => {
        const s = Store.open({ dataDir: dir, readOnly: true })
        const ids = s.query(Region.all()).map((e) => e.eventId)
        s.close()
        return ids
      })()
      const r = spawnSync(process.execPath, [BIN, 'compact', dir, '--strategy', 'retention', '--drop-entity', 'mail'], {
        encoding: 'utf8',
        env: { ...process.env, CAUSEWAY_KILL_AT: point },
      })
      expect(r.signal).toBe('SIGKILL')
      const v = cli(['verify', dir, '--json'])
      expect(v.code, v.stdout).toBe(0)
      const s = Store.open({ dataDir: dir })
      const ids = s.query(Region.all()).map((e) => e.eventId)
      const mail = s.query(Region.entity('mail')).length
      s.close()
      // Old generation: every event. New: the sealed mail events gone, nothing else.
      if (ids.length === all.length) expect(ids).toEqual(all)
      else {
        expect(mail).toBeLessThan(30)
        expect(ids.every((id) => all.includes(id))).toBe(true)
      }
    },
  )

  it.each(['snapshot:sealed-linked', 'snapshot:active-copied'])('killed during snapshot at %s, leaves no half-made copy', (point) => {
    const { dir } = shop()
    const dest = path.join(tempDir('cli-snap'), 'copy')
    const r = spawnSync(process.execPath, [BIN, 'snapshot', dir, dest], { encoding: 'utf8', env: { ...process.env, CAUSEWAY_KILL_AT: point } })
    expect(r.signal).toBe('SIGKILL')
    expect(fs.existsSync(dest)).toBe(false)
    const again = cli(['snapshot', dir, dest, '--json'])
    expect(again.code, again.stderr).toBe(0)
    expect(cli(['verify', dest]).code).toBe(0)
  })

  it('--dry-run counts what the drop rules would remove and changes nothing', () => {
    const { dir } = shop()
    const before = fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f))] as const)
    const r = cli(['compact', dir, '--strategy', 'retention', '--drop-entity', 'mail', '--keep-kinds', '1:*,2:1,3:1,4:1', '--dry-run', '--json'])
    expect(r.code, r.stderr).toBe(0)
    // 30 mail events, and 60 notes (kind 5:7) outside --keep-kinds; the system event is kept.
    expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: true, events: 181, wouldDrop: 90, wouldKeep: 91, byEntityPrefix: { order: 60, mail: 30 } })
    for (const [f, bytes] of before) expect(fs.readFileSync(path.join(dir, f)).equals(bytes), f).toBe(true)
    expect(cli(['compact', dir, '--strategy', 'retention']).code).toBe(2) // no drop rule
  })

  it(
    'merges sealed segments and applies retention rules; the store still verifies',
    () => {
      const { dir } = shop()
      const segments = segmentFiles(dir).length
      const merge = cli(['compact', dir, '--json'])
      expect(merge.code, merge.stderr).toBe(0)
      expect(JSON.parse(merge.stdout).report).toMatchObject({ performed: true })
      expect(segmentFiles(dir).length).toBeLessThan(segments)
      const retention = cli(['compact', dir, '--strategy', 'retention', '--drop-entity', 'mail', '--min-segments', '1'])
      expect(retention.code, retention.stderr).toBe(0)
      expect(retention.stdout).toMatch(/eventsDropped\s+[1-9]/)
      // Sealed segments lose their mail events; the active segment is not rewritten.
      const mails = events(dir).filter((e) => e.coordinate.entity.startsWith('mail:')).length
      expect(mails).toBeLessThan(30)
      expect(cli(['verify', dir]).code).toBe(0)
    },
  )

  it(
    'tombstones events; verify and walk treat an emptied payload as compaction, not damage',
    () => {
      const a = shop()
      const r = cli(['compact', a.dir, '--strategy', 'tombstone', '--drop-entity', 'payment:1', '--min-segments', '1', '--json'])
      expect(r.code, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout).report).toMatchObject({ performed: true, eventsTombstoned: 1 })
      // payment:1 goes on after its tombstone: the next link must still hold.
      const s = Store.open({ dataDir: a.dir })
      s.append(new Coordinate('payment:1', 'billing'), Charged, { amount: 1 })
      s.close()
      const v = cli(['verify', a.dir])
      expect(v.code, v.stdout).toBe(0)
      expect(v.stdout).toContain('(1 tombstoned event: compaction emptied the payload')
      expect(cli(['tail', a.dir, '--entity', 'payment:1']).stdout).toMatch(/^#1 \S+ payment:1 @billing 0x2001 \(tombstoned\)$/m)
      const w = cli(['walk', a.dir, a.placed])
      expect(w.code, w.stdout).toBe(0)
      // A tombstone is not damage: its recorded hash still links the chain.
      expect(w.stdout).toMatch(/payment:1: \d+ events? back to its first, every hash and link verified/)
    },
  )

  it(
    'writes a snapshot that verifies and holds the same events',
    () => {
      const { dir } = shop()
      const dest = path.join(tempDir('cli-snap'), 'snap')
      const r = cli(['snapshot', dir, dest])
      expect(r.code, r.stderr).toBe(0)
      expect(cli(['verify', dest]).code).toBe(0)
      expect(events(dest).map((e) => e.eventId)).toEqual(events(dir).map((e) => e.eventId))
      expect(cli(['snapshot', dir, dest]).code).toBe(2) // not an empty directory
    },
  )

})

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0

describe('progress bars', () => {
  it.skipIf(!hasScript)('are drawn on a terminal (script(1) gives the CLI a pseudo-terminal)', () => {
    const { dir } = shop()
    const r = spawnSync('script', ['-qfec', `"${process.execPath}" "${BIN}" verify "${dir}"`, '/dev/null'], { encoding: 'utf8' })
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/frames\s+[\u2588\u2591]+/)
    expect(r.stdout).toContain('OK: no damage found')
  })
})
