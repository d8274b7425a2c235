import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Coordinate, CorruptionError, EventKind, Region, Store } from '../src/index.js'
import { crashImage, dirDigest, frameOffsets, segmentFiles, stripFooters, tempDir } from './helpers.js'

const K = EventKind.custom(1, 1)
const SEG = 64 * 1024
const HEADER = 128

function copyDir(src: string): string {
  const dst = tempDir('copy')
  for (const n of fs.readdirSync(src)) fs.copyFileSync(path.join(src, n), path.join(dst, n))
  return dst
}

function payloads(s: Store): unknown[] {
  return s.query(Region.all()).map((e) => e.payload)
}

describe('torn tail', () => {
  it('recovers exactly the whole frames before a cut at every byte of the last three frames', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG, sync: { mode: 'none' } })
    const n = 12
    for (let i = 0; i < n; i++) s.append(new Coordinate(`e${i % 3}`, 's'), K, { i, pad: 'x'.repeat(i * 7) })
    const image = crashImage(dir)
    s.close()
    const seg = segmentFiles(image)[0]!
    const frames = frameOffsets(fs.readFileSync(seg))
    expect(frames.length).toBe(n)
    const first = frames[n - 3]!.at
    const last = frames[n - 1]!
    for (let cut = first; cut <= last.at + last.span; cut++) {
      const d = copyDir(image)
      fs.truncateSync(segmentFiles(d)[0]!, cut)
      // A frame is whole once its length is there; only padding may be missing.
      const whole = frames.filter((f) => f.at + f.len <= cut).length
      const r = Store.open({ dataDir: d, segmentMaxBytes: SEG })
      expect(r.stats().events, `cut at ${cut}`).toBe(whole)
      expect(payloads(r).map((p) => (p as { i: number }).i)).toEqual(Array.from({ length: whole }, (_, i) => i))
      // The store goes on from the cut: the next event takes the next sequence.
      expect(r.append(new Coordinate('after', 's'), K, 'next').globalSequence).toBe(BigInt(whole))
      r.close()
      fs.rmSync(d, { recursive: true, force: true })
    }
  })

  it('cuts garbage written past the last synced frame and keeps accepting appends', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG, sync: { mode: 'none' } })
    for (let i = 0; i < 5; i++) s.append(new Coordinate('g', 's'), K, i)
    s.sync()
    const image = crashImage(dir)
    s.close()
    const seg = segmentFiles(image)[0]!
    const frames = frameOffsets(fs.readFileSync(seg))
    const end = frames[frames.length - 1]!.at + frames[frames.length - 1]!.span
    const fd = fs.openSync(seg, 'r+')
    fs.writeSync(fd, Buffer.alloc(700, 0xa5), 0, 700, end + 64)
    fs.closeSync(fd)
    const r = Store.open({ dataDir: image, segmentMaxBytes: SEG })
    expect(r.stats().events).toBe(5)
    expect(r.stats().recoveredTornBytes).toBeGreaterThanOrEqual(700)
    r.append(new Coordinate('g', 's'), K, 5)
    r.close()
    const again = Store.open({ dataDir: image, segmentMaxBytes: SEG })
    expect(payloads(again)).toEqual([0, 1, 2, 3, 4, 5])
    again.close()
  })

  it('drops a batch whose end frame never reached the disk, whole', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG, sync: { mode: 'none' } })
    s.append(new Coordinate('b', 's'), K, 'before')
    s.appendBatch(Array.from({ length: 5 }, (_, i) => ({ coord: new Coordinate('b', 's'), kind: K, payload: `item${i}` })))
    const image = crashImage(dir)
    s.close()
    const seg = segmentFiles(image)[0]!
    const frames = frameOffsets(fs.readFileSync(seg))
    expect(frames.length).toBe(6)
    // Cut inside the last item: the four items before it are whole but uncommitted.
    fs.truncateSync(seg, frames[5]!.at + 20)
    const r = Store.open({ dataDir: image, segmentMaxBytes: SEG })
    expect(payloads(r)).toEqual(['before'])
    r.close()
  })

  it('recovers idempotently: a second open after recovery changes no byte', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG, sync: { mode: 'none' } })
    for (let i = 0; i < 8; i++) s.append(new Coordinate('i', 's'), K, i)
    const image = crashImage(dir)
    s.close()
    const seg = segmentFiles(image)[0]!
    const frames = frameOffsets(fs.readFileSync(seg))
    fs.truncateSync(seg, frames[7]!.at + 3)
    Store.open({ dataDir: image, segmentMaxBytes: SEG, readOnly: false }).close()
    const once = dirDigest(image)
    const r = Store.open({ dataDir: image, segmentMaxBytes: SEG, readOnly: true })
    expect(r.stats().events).toBe(7)
    r.close()
    expect(dirDigest(image)).toEqual(once)
  })
})

describe('corruption', () => {
  it('refuses a flipped byte below the durable frontier with CorruptionError naming segment and offset', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    for (let i = 0; i < 10; i++) s.append(new Coordinate('c', 's'), K, { i })
    s.sync()
    const image = crashImage(dir)
    s.close()
    const seg = segmentFiles(image)[0]!
    const frames = frameOffsets(fs.readFileSync(seg))
    const victim = frames[4]!
    const b = fs.readFileSync(seg)
    b[victim.at + victim.len - 2]! ^= 0x01
    fs.writeFileSync(seg, b)
    let err: unknown
    try {
      Store.open({ dataDir: image, segmentMaxBytes: SEG })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(CorruptionError)
    expect((err as Error).message).toContain(path.basename(seg))
    expect((err as Error).message).toContain(`offset ${victim.at}`)
  })

  it('refuses a truncation below the durable frontier instead of cutting acknowledged events', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    for (let i = 0; i < 10; i++) s.append(new Coordinate('c', 's'), K, { i })
    s.sync()
    const image = crashImage(dir)
    s.close()
    const seg = segmentFiles(image)[0]!
    const frames = frameOffsets(fs.readFileSync(seg))
    fs.truncateSync(seg, frames[6]!.at + 10)
    expect(() => Store.open({ dataDir: image, segmentMaxBytes: SEG })).toThrow(CorruptionError)
  })

  it('refuses a flipped byte in a sealed segment when the open scans it', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: 4096 })
    for (let i = 0; i < 60; i++) s.append(new Coordinate('c', 's'), K, { i, pad: 'z'.repeat(40) })
    s.close()
    fs.rmSync(path.join(dir, 'index.ckpt')) // no checkpoint and no footers: the open scans every frame
    stripFooters(dir)
    const segs = segmentFiles(dir)
    expect(segs.length).toBeGreaterThan(2)
    const b = fs.readFileSync(segs[1]!)
    b[HEADER + 190]! ^= 0x80
    fs.writeFileSync(segs[1]!, b)
    expect(() => Store.open({ dataDir: dir, segmentMaxBytes: 4096 })).toThrow(/segment 0000000000000002\.cwseg offset/)
  })

  it('reports a flipped byte in a sealed segment on read when the open came from the checkpoint', () => {
    const dir = tempDir()
    let s = Store.open({ dataDir: dir, segmentMaxBytes: 4096 })
    for (let i = 0; i < 60; i++) s.append(new Coordinate('c', 's'), K, { i, pad: 'z'.repeat(40) })
    s.close()
    const seg = segmentFiles(dir)[1]!
    const victim = frameOffsets(fs.readFileSync(seg))[0]!
    const b = fs.readFileSync(seg)
    b[victim.at + victim.len - 3]! ^= 0x80
    fs.writeFileSync(seg, b)
    s = Store.open({ dataDir: dir, segmentMaxBytes: 4096 })
    expect(s.stats().openedFromCheckpoint).toBe(true)
    expect(() => s.query(Region.all())).toThrow(CorruptionError)
    expect(() => s.stream('c')).toThrow(/segment 0000000000000002\.cwseg offset/)
    expect(s.query(Region.all().withClockRange(1, 3)).length).toBe(3) // the undamaged rest stays readable
    s.close()
  })

  it('refuses a store whose middle segment is missing', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: 4096 })
    for (let i = 0; i < 60; i++) s.append(new Coordinate('c', 's'), K, { i, pad: 'z'.repeat(40) })
    s.close()
    fs.rmSync(segmentFiles(dir)[1]!)
    expect(() => Store.open({ dataDir: dir, segmentMaxBytes: 4096 })).toThrow(CorruptionError)
  })

  it('never returns bytes that changed under an open store: reads re-check the CRC', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    const r = s.append(new Coordinate('c', 's'), K, { secret: 'original' })
    s.sync()
    const seg = segmentFiles(dir)[0]!
    const fd = fs.openSync(seg, 'r+')
    const at = frameOffsets(fs.readFileSync(seg))[0]!.at + 180
    const one = Buffer.alloc(1)
    fs.readSync(fd, one, 0, 1, at)
    one[0]! ^= 0xff
    fs.writeSync(fd, one, 0, 1, at)
    fs.closeSync(fd)
    expect(() => s.get(r.eventId)).toThrow(CorruptionError)
    expect(() => s.query(Region.all())).toThrow(CorruptionError)
    s.close()
  })

  it('deletes a segment left half-created (a .tmp file) and opens cleanly', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    s.append(new Coordinate('c', 's'), K, 1)
    s.close()
    fs.writeFileSync(path.join(dir, '0000000000000002.cwseg.tmp'), Buffer.alloc(4096))
    const r = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    expect(r.stats().events).toBe(1)
    expect(fs.existsSync(path.join(dir, '0000000000000002.cwseg.tmp'))).toBe(false)
    r.close()
  })
})
