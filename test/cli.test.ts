// The causeway CLI (bin/causeway -> dist/cjs/cli/main.js) driven as a child
// process against real stores in temporary directories: help and usage,
// stats, damage found by verify, walk, progress bars. Export, import and tail
// are in cli-transfer.test.ts, compact and snapshot in cli-maintenance.test.ts.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { Store } from '../src/index.js'
import { dirDigest, repoRoot, segmentFiles, stripFooters, tempDir } from './helpers.js'
import { BAR, BIN, COMMANDS, cli, firstPayloadOffset, maskedCrc, requireBuild, shop } from './cli-helpers.js'

beforeAll(requireBuild)

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

  it('refuses an unknown or misspelt flag on every command with exit code 2, naming it, and touches no store', () => {
    const { dir } = shop()
    const before = dirDigest(dir)
    const extra: Record<string, string[]> = { compact: ['--strategy', 'merge'], snapshot: [path.join(tempDir('cli-snap'), 'copy')], walk: ['1'] }
    for (const c of COMMANDS) {
      const r = cli([c, dir, ...(extra[c] ?? []), '--jsno'])
      expect(r.code, c).toBe(2)
      expect(r.stderr, c).toContain("unknown option '--jsno'")
      expect(r.stderr, c).toContain('(add --help for usage)')
      expect(r.stdout, c).toBe('')
    }
    expect(cli(['compact', dir, '--strategy', 'merge', '--min-segment', '1']).stderr).toContain("unknown option '--min-segment'")
    expect(cli(['--frobnicate']).code).toBe(2)
    expect(dirDigest(dir)).toEqual(before)
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
