import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Coordinate, CorruptionError, EventKind, Region, Store } from '../src/index.js'
import { cli } from './cli-helpers.js'
import { tempDir } from './helpers.js'

// Sealed segments' event ids come from their index files (`<segment>.cwidx`):
// these tests catch a lookup that misses an event, trusts a bad file, or
// leaves a file behind that no longer describes its segment.

const K = EventKind.custom(1, 1)
const SEG = 16 * 1024 // small: files are built in the append that seals a segment

function fill(s: Store, n: number, from = 0): string[] {
  const ids: string[] = []
  for (let i = from; i < from + n; i += 10) {
    const items = Array.from({ length: Math.min(10, from + n - i) }, (_, j) => ({
      coord: new Coordinate(`acct:${(i + j) % 7}`, 'bank'),
      kind: K,
      payload: { i: i + j, pad: 'p'.repeat(40) },
    }))
    for (const r of s.appendBatch(items)) ids.push(r.eventId)
  }
  return ids
}

const parts = (dir: string) => fs.readdirSync(dir).filter((n) => n.endsWith('.cwidx')).sort()
const segments = (dir: string) => fs.readdirSync(dir).filter((n) => n.endsWith('.cwseg')).sort()

/**
 * Appends a tick every 50 ms (at most 20 s) until `done`: the builder works
 * beside the appends, and an append hands over what it built. By default,
 * until every sealed segment is served by its file.
 */
function waitForIndexFiles(s: Store, done = () => s.stats().indexFiles >= s.stats().segments - 1): void {
  const deadline = Date.now() + 20_000
  while (!done() && Date.now() < deadline) {
    s.append(new Coordinate('tick', 'bank'), K, {})
    spawnSync('sleep', ['0.05'])
  }
}

function expectAllFound(s: Store, ids: string[]): void {
  for (const id of ids) expect(s.get(id)?.eventId, id).toBe(id)
}

describe('index files answer for sealed segments', () => {
  it('finds every event by id once its segment is served by a file, and misses an unknown id', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    const ids = fill(s, 600)
    const st = s.stats()
    expect(st.segments).toBeGreaterThan(4)
    // Every sealed segment has its file at once (small ones are built in the sealing append).
    expect(st.indexFiles).toBe(st.segments - 1)
    expect(parts(dir).length).toBe(st.segments - 1)
    expect(st.indexFileBytes).toBeGreaterThan(0)
    expectAllFound(s, ids)
    expect(s.get('0190f0c2-0000-7000-8000-000000000000')).toBeUndefined()
    s.close()
  })

  it('reopens from the checkpoint with every sealed segment served by its file, no id lost', () => {
    const dir = tempDir()
    let s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    const ids = fill(s, 600)
    const inMemory = s.stats().indexBytes
    s.close()
    s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    const st = s.stats()
    expect(st.openedFromCheckpoint).toBe(true)
    expect(st.indexFiles).toBe(st.segments - 1)
    expect(st.indexBytes).toBeLessThanOrEqual(inMemory)
    expectAllFound(s, ids)
    // Appends after the reopen are found too, and the files keep up as segments seal.
    const more = fill(s, 300, 600)
    expect(s.stats().indexFiles).toBe(s.stats().segments - 1)
    expectAllFound(s, [...ids, ...more])
    s.close()
  })

  it('refuses a damaged file at its first use, never answering from it, and a writer rebuilds it', () => {
    const dir = tempDir()
    let s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    const ids = fill(s, 600)
    const seg = s.diagnostics().segmentList[1]!
    const inVictim = s.query(Region.all()).filter((e) => e.globalSequence >= seg.baseSequence && e.globalSequence < seg.nextSequence)
    s.close()
    const victim = path.join(dir, parts(dir)[1]!)
    expect(path.basename(victim)).toBe(path.basename(seg.file).replace('.cwseg', '.cwidx'))
    const bytes = fs.readFileSync(victim)
    bytes[bytes.length - 20]! ^= 0x55 // inside the sorted ids
    fs.writeFileSync(victim, bytes)
    // An open from the checkpoint reads the files' headers only: the damage is
    // found when a call needs that file, and that call fails naming it.
    const ro = Store.open({ dataDir: dir, readOnly: true })
    expect(ro.stats().openedFromCheckpoint).toBe(true)
    expect(ro.stats().indexFilesChecked).toBe(0)
    expect(() => ro.query(Region.all())).toThrow(CorruptionError)
    expect(() => ro.query(Region.all())).toThrow(new RegExp(path.basename(victim).replace('.', '\\.')))
    const victimIds = inVictim.map((e) => e.eventId).filter((id) => ids.includes(id))
    expect(victimIds.length).toBeGreaterThan(0)
    expect(() => ro.get(victimIds[0]!)).toThrow(CorruptionError)
    ro.close()
    // A writer checks every file beside its appends and rebuilds the one that fails.
    s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    expect(s.stats().openedFromCheckpoint).toBe(true)
    waitForIndexFiles(s, () => s.stats().indexFilesChecked >= s.stats().indexFiles)
    expect(s.stats().indexFilesChecked).toBe(s.stats().indexFiles)
    expect(fs.readFileSync(victim).equals(bytes)).toBe(false)
    expectAllFound(s, ids)
    expect(s.query(Region.all()).length).toBeGreaterThan(600)
    s.close()
  })

  it("opens from the checkpoint without reading a file's body; a read checks only the file it needs", () => {
    const dir = tempDir()
    let s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    const ids = fill(s, 600)
    s.close()
    s = Store.open({ dataDir: dir, readOnly: true })
    expect(s.stats().openedFromCheckpoint).toBe(true)
    expect(s.stats().indexFiles).toBeGreaterThan(4)
    expect(s.stats().indexFilesChecked).toBe(0)
    expect(s.get(ids[5]!)?.eventId).toBe(ids[5]) // the first segment's
    expect(s.stats().indexFilesChecked).toBe(1)
    expectAllFound(s, ids)
    expect(s.stats().indexFilesChecked).toBe(s.stats().indexFiles)
    s.close()
  })

  it('rebuilds a missing file, and a read-only open uses the files but writes none', () => {
    const dir = tempDir()
    let s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    const ids = fill(s, 600)
    s.close()
    const gone = parts(dir)[0]!
    fs.rmSync(path.join(dir, gone))
    const ro = Store.open({ dataDir: dir, readOnly: true })
    expectAllFound(ro, ids)
    expect(ro.stats().indexFiles).toBe(ro.stats().segments - 2)
    ro.close()
    expect(parts(dir)).not.toContain(gone)
    s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    expect(parts(dir)).toContain(gone)
    expect(s.stats().indexFiles).toBe(s.stats().segments - 1)
    expectAllFound(s, ids)
    s.close()
  })

  it('compaction removes the sources\u2019 files and serves the new segment from its own', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    const ids = fill(s, 600)
    const before = parts(dir)
    const r = s.compact({ strategy: 'merge' })
    expect(r.performed).toBe(true)
    // Every file names a segment that exists, and every sealed segment but the newest has one.
    const segs = segments(dir).map((n) => n.replace('.cwseg', ''))
    for (const p of parts(dir)) expect(segs).toContain(p.replace('.cwidx', ''))
    expect(parts(dir).length).toBeLessThan(before.length)
    expect(s.stats().indexFiles).toBe(s.stats().segments - 1)
    expectAllFound(s, ids)
    s.close()
    const again = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    expectAllFound(again, ids)
    again.close()
  })

  it('a snapshot carries the files as hard links, and opens served by them', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    const ids = fill(s, 600)
    const dest = path.join(tempDir('snap'), 'copy')
    s.snapshot(dest)
    s.close()
    const copied = parts(dest)
    expect(copied.length).toBeGreaterThan(0)
    for (const p of copied) expect(fs.statSync(path.join(dest, p)).ino).toBe(fs.statSync(path.join(dir, p)).ino)
    const c = Store.open({ dataDir: dest, readOnly: true })
    expect(c.stats().indexFiles).toBe(copied.length)
    expectAllFound(c, ids)
    c.close()
  })

  it('causeway verify names a damaged and a missing file, and still calls the store sound', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    fill(s, 300)
    s.close()
    const [first, second] = parts(dir)
    fs.rmSync(path.join(dir, first!))
    const bytes = fs.readFileSync(path.join(dir, second!))
    bytes[300]! ^= 1
    fs.writeFileSync(path.join(dir, second!), bytes)
    const r = cli(['verify', dir, '--json'])
    expect(r.code, r.stderr).toBe(0)
    const j = JSON.parse(r.stdout)
    expect(j.ok).toBe(true)
    const states = Object.fromEntries(j.indexFiles.map((x: { segment: string; state: string }) => [x.segment.replace('.cwseg', '.cwidx'), x.state]))
    expect(states[first!]).toBe('missing')
    expect(states[second!]).toBe('damaged')
    expect(Object.values(states).filter((x) => x === 'ok').length).toBe(j.indexFiles.length - 2)
    expect(cli(['verify', dir]).stdout).toMatch(/index files\s+\d+ of \d+ sealed segments' files check; .*missing.*damaged/)
  })

  it('a read-only store following a writer in another process takes the files the writer built as its segments seal', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    const first = fill(s, 50)
    s.close()
    const ro = Store.open({ dataDir: dir, readOnly: true })
    const lib = path.join(__dirname, '../dist/cjs/index.js')
    const script = `const { Store, Coordinate, EventKind } = require(${JSON.stringify(lib)})
      const s = Store.open({ dataDir: ${JSON.stringify(dir)}, segmentMaxBytes: ${SEG} })
      const ids = []
      for (let i = 0; i < 600; i++) ids.push(s.append(new Coordinate('acct:' + (i % 7), 'bank'), EventKind.custom(1, 1), { i, pad: 'p'.repeat(40) }).eventId)
      s.close()
      process.stdout.write(JSON.stringify(ids))`
    const w = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
    expect(w.status, w.stderr).toBe(0)
    ro.refresh()
    const st = ro.stats()
    expect(st.segments).toBeGreaterThan(4)
    expect(st.indexFiles).toBe(st.segments - 1)
    expectAllFound(ro, [...first, ...(JSON.parse(w.stdout) as string[])])
    ro.close()
  })

  it('removes a file whose segment is gone when a writer opens', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    fill(s, 300)
    s.close()
    fs.copyFileSync(path.join(dir, parts(dir)[0]!), path.join(dir, 'ffffffffffffff00.cwidx'))
    Store.open({ dataDir: dir, segmentMaxBytes: SEG }).close()
    expect(parts(dir)).not.toContain('ffffffffffffff00.cwidx')
  })
})

describe('large segments: files built off the append path', () => {
  it('serves a large compacted segment from the index file its commit installed, not from memory until a background rebuild', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: 1536 * 1024 })
    const ids = fill(s, 40_000)
    waitForIndexFiles(s)
    expect(s.stats().segments).toBeGreaterThan(3)
    expect(s.compact({ strategy: 'merge' }).performed).toBe(true)
    // At once, with no append to hand over a file built since: the replacement (over 1 MiB) is served by its own file.
    expect(s.stats().segments).toBe(2)
    expect(s.stats().indexFiles).toBe(1)
    expect(parts(dir)).toEqual(['0000000000000001.cwidx'])
    expect(fs.readdirSync(dir).filter((n) => n.includes('compact'))).toEqual([])
    expectAllFound(s, ids.filter((_, i) => i % 13 === 0))
    s.close()
    const r = Store.open({ dataDir: dir, readOnly: true })
    expect(parts(dir)[0]).toBe('0000000000000001.cwidx')
    expect(r.stats().indexFiles).toBe(parts(dir).length)
    expectAllFound(r, ids.filter((_, i) => i % 13 === 0))
    r.close()
  })

  it('serves a sealed 1.5 MiB segment from its file once the builder is done, every id found meanwhile', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: 1536 * 1024 })
    const ids = fill(s, 30_000)
    expect(s.stats().segments).toBeGreaterThan(2)
    expectAllFound(s, ids.filter((_, i) => i % 97 === 0))
    waitForIndexFiles(s)
    expect(s.stats().indexFiles).toBe(s.stats().segments - 1)
    expectAllFound(s, ids)
    s.close()
  })
})

describe('killed while an index file is written', () => {
  it.each(['index-part:tmp-written', 'index-part-built'])(
    'loses no acknowledged event and serves every sealed segment from a sound file after a SIGKILL at %s',
    (point) => {
      const dir = tempDir()
      const fixture = path.join(__dirname, 'fixtures/index-file-appender.cjs')
      const killed = spawnSync(process.execPath, [fixture, dir], { encoding: 'utf8', env: { ...process.env, CAUSEWAY_KILL_AT: point }, timeout: 60_000 })
      expect(killed.signal).toBe('SIGKILL')
      const acked = killed.stdout.split('\n').filter(Boolean)
      expect(acked.length).toBeGreaterThan(0)
      const s = Store.open({ dataDir: dir, segmentMaxBytes: 1536 * 1024 })
      expectAllFound(s, acked)
      // No torn file is left, and the writer rebuilds what the kill cut short.
      expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([])
      waitForIndexFiles(s)
      expect(s.stats().indexFiles).toBe(s.stats().segments - 1)
      expectAllFound(s, acked)
      s.close()
    },
  )
})
