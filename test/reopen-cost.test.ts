import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, Region, Store } from '../src/index.js'
import { frameOffsets, HEADER } from './format-helpers.js'
import { crashImage, segmentFiles, tempDir } from './helpers.js'

// What an open costs must not grow with the log (issue 21): a clean close
// leaves no large segment's rows for the next open to load, and after a
// crash the writer's last periodic checkpoint stands in for every sealed
// segment's index file. These tests catch an open that loads those rows or
// files again, one that starts a segment per open, and a checkpoint trusted
// for frames that no longer check.

const K = EventKind.custom(1, 1)
const SEG = 2 * 1024 * 1024 // a writer resumes its last segment up to 1 MiB (or 1/8 of this), starts a new one past that
const FIXTURE = path.join(__dirname, 'fixtures/checkpoint-appender.cjs')

function fillBytes(s: Store, bytes: number): string[] {
  const ids: string[] = []
  for (let b = 0; ids.length * 400 < bytes; b++) {
    const items = Array.from({ length: 100 }, (_, j) => ({ coord: new Coordinate(`acct:${j % 7}`, 'bank'), kind: K, payload: { b, j, pad: 'p'.repeat(320) } }))
    for (const r of s.appendBatch(items)) ids.push(r.eventId)
  }
  return ids
}

const everything = (s: Store) => s.query(Region.all()).map((e) => `${e.globalSequence}:${e.eventId}:${e.contentHash}:${e.prevHash}`)

/** The checkpoint's segment table (FORMAT.md, "Index checkpoint"): each segment's rows, and whether its index file holds them. */
function checkpointSegments(dir: string): { rows: number; inFile: boolean }[] {
  const body = fs.readFileSync(path.join(dir, 'index.ckpt')).subarray(20)
  let p = 4 + 64 * body.readUInt32LE(0) + 8
  const n = body.readUInt32LE(p)
  p += 4
  const out: { rows: number; inFile: boolean }[] = []
  for (let i = 0; i < n; i++) {
    const rows = body.readUInt32LE(p + 4)
    const inFile = body[p + 8] === 1
    p += 9
    if (inFile) p += 4 // last frame offset
    out.push({ rows, inFile })
  }
  return out
}

/** The last segment the checkpoint covers: its id and how far (u64 fields id, base, end at 0, 8, 16 of 64 bytes each). */
function checkpointCoverage(dir: string): { id: bigint; end: number } {
  const body = fs.readFileSync(path.join(dir, 'index.ckpt')).subarray(20)
  const at = 4 + 64 * (body.readUInt32LE(0) - 1)
  return { id: body.readBigUInt64LE(at), end: Number(body.readBigUInt64LE(at + 16)) }
}

function killedAppender(dir: string, armAfterBatches: number): string[] {
  const r = spawnSync(process.execPath, [FIXTURE, dir, String(armAfterBatches)], { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 28 })
  expect(r.signal).toBe('SIGKILL')
  return r.stdout.split('\n').filter(Boolean)
}

describe('a clean close and the next open', () => {
  it('seals a large newest segment with its index file, so the next open loads none of its rows and appends to a new segment', () => {
    const dir = tempDir()
    let s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    const ids = fillBytes(s, 1.5 * 1024 * 1024)
    expect(s.stats().segments).toBe(1)
    const before = everything(s)
    const last = s.stream('acct:3').at(-1)!
    s.close()
    expect(fs.existsSync(path.join(dir, '0000000000000001.cwidx'))).toBe(true)
    // Every row is left to its file: the checkpoint carries none of them.
    expect(checkpointSegments(dir)).toEqual([{ rows: ids.length, inFile: true }])
    // Opened with the default 64 MiB segments, which alone would resume a 1.5 MiB segment: the close's file decides.
    s = Store.open({ dataDir: dir })
    expect(s.stats()).toMatchObject({ openedFromCheckpoint: true, segments: 2, indexFiles: 1, indexFilesLoaded: 0 })
    expect(everything(s)).toEqual(before)
    const next = s.append(new Coordinate('acct:3', 'bank'), K, { after: true })
    expect(next.prevHash).toBe(last.contentHash)
    expect(next.clock).toBe(last.clock + 1)
    expect(s.stats().segments).toBe(2)
    s.close()
    // The new segment is small: later opens resume it, with or without appends, and start no segment of their own.
    for (let i = 0; i < 3; i++) {
      s = Store.open({ dataDir: dir, ...(i === 1 ? {} : { segmentMaxBytes: SEG }) })
      if (i === 0) s.append(new Coordinate('acct:4', 'bank'), K, { again: i })
      expect(s.stats().segments).toBe(2)
      s.close()
    }
    expect(segmentFiles(dir)).toHaveLength(2)
    s = Store.open({ dataDir: dir, readOnly: true })
    expect(everything(s).slice(0, before.length)).toEqual(before)
    expect(s.stats().events).toBe(ids.length + 2)
    s.close()
  })
})

describe('killed while a close builds the newest segment\'s index file', () => {
  it.each(['index-part:tmp-written', 'close:before-checkpoint'])('loses no acknowledged event and reopens whole after a SIGKILL at %s', (point) => {
    const dir = tempDir()
    const r = spawnSync(process.execPath, [path.join(__dirname, 'fixtures/close-appender.cjs'), dir, point], { encoding: 'utf8', timeout: 60_000 })
    expect(r.signal).toBe('SIGKILL')
    const acked = r.stdout.split('\n').filter(Boolean)
    expect(acked).toHaveLength(4000)
    const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    expect(s.stats().events).toBe(4000)
    for (const id of acked) expect(s.get(id)?.eventId, id).toBe(id)
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([])
    const last = s.stream('acct:2').at(-1)!
    expect(s.append(new Coordinate('acct:2', 'bank'), K, { after: 'kill' }).prevHash).toBe(last.contentHash)
    s.close()
    const again = Store.open({ dataDir: dir, readOnly: true })
    expect(again.stats().events).toBe(4001)
    again.close()
  })
})

describe('an open after a crash', () => {
  it('reads the writer\'s periodic checkpoint and the newest segment\'s frames, not every sealed segment\'s index file', () => {
    const dir = tempDir()
    // Killed at the first periodic checkpoint after about 5 segments' worth of appends.
    const acked = killedAppender(dir, 500)
    expect(segmentFiles(dir).length).toBeGreaterThan(4)
    const image = crashImage(dir)
    const s = Store.open({ dataDir: dir, segmentMaxBytes: 1536 * 1024 })
    const st = s.stats()
    expect(st.openedFromCheckpoint).toBe(true)
    expect(st.indexFilesLoaded).toBe(0)
    for (const id of acked) expect(s.get(id)?.eventId, id).toBe(id)
    // The same store without the checkpoint reads each sealed segment's file whole, and finds exactly the same.
    fs.rmSync(path.join(image, 'index.ckpt'))
    const full = Store.open({ dataDir: image, segmentMaxBytes: 1536 * 1024 })
    expect(full.stats().openedFromCheckpoint).toBe(false)
    expect(full.stats().indexFilesLoaded).toBe(segmentFiles(image).length - 1)
    expect(everything(s)).toEqual(everything(full))
    s.append(new Coordinate('acct:1', 'bank'), K, { after: 'crash' })
    full.close()
    s.close()
  })

  it('refuses a periodic checkpoint when a frame it covers past the durable frontier no longer checks', () => {
    const dir = tempDir()
    const acked = killedAppender(dir, 0)
    // The checkpoint covers the newest segment part way; nothing in it was recorded durable (sync 'none').
    const files = segmentFiles(dir)
    const newest = files.at(-1)!
    const cover = checkpointCoverage(dir)
    expect(cover.id).toBe(BigInt(files.length))
    const buf = fs.readFileSync(newest)
    const offsets = frameOffsets(buf)
    const covered = offsets.filter((o) => o < cover.end)
    expect(covered.length).toBeGreaterThan(10)
    expect(cover.end).toBeGreaterThan(HEADER)
    // Damage a frame in the middle of the covered part: a scan stops there (a torn tail past the frontier).
    const bad = covered[covered.length >> 1]!
    const fd = fs.openSync(newest, 'r+')
    const byte = Buffer.alloc(1)
    fs.readSync(fd, byte, 0, 1, bad + 60)
    byte[0]! ^= 0x40
    fs.writeSync(fd, byte, 0, 1, bad + 60)
    fs.closeSync(fd)
    const sealedEvents = files.slice(0, -1).reduce((n, f) => n + frameOffsets(fs.readFileSync(f)).length, 0)
    // Batches of 100 from sequence 0, none across segments: the scan keeps the batches before the damaged frame's.
    const kept = Math.floor((sealedEvents + offsets.indexOf(bad)) / 100) * 100
    const s = Store.open({ dataDir: dir, segmentMaxBytes: 1536 * 1024 })
    expect(s.stats().openedFromCheckpoint).toBe(false)
    expect(s.stats().events).toBe(kept)
    // What a scan keeps is exactly the acknowledged events before the damaged frame; none after it is answered.
    for (const id of acked.slice(0, kept)) expect(s.get(id)?.eventId).toBe(id)
    for (const id of acked.slice(kept, kept + 20)) expect(s.get(id)).toBeUndefined()
    s.close()
  })
})
