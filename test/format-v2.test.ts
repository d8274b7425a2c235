// Format version 2 (the frame extension block) against stores written by
// format version 1, and damage to a block.
import * as fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { Coordinate, CorruptionError, EventKind, Region, Store } from '../src/index.js'
import { extensionOffset, frameEnd, frameOffsets, HEADER, segments, setHeaderVersion, VERSION_AT } from './format-helpers.js'
import { tempDir } from './helpers.js'

const K = EventKind.custom(1, 1)
const at = new Coordinate('course:c1', 'uni')

describe('format version 2', () => {
  it('opens a version-1 store unchanged, and rolls to a version-2 segment before its first tagged event', () => {
    const dir = tempDir('v1')
    const s = Store.open({ dataDir: dir })
    for (let i = 0; i < 5; i++) s.append(at, K, { i })
    s.close()
    const [v1] = segments(dir)
    expect(segments(dir)).toHaveLength(1)
    expect(fs.readFileSync(v1!).readUInt32LE(VERSION_AT)).toBe(2) // what this build writes
    setHeaderVersion(v1!, 1) // now as a version-1 build left it
    const before = fs.readFileSync(v1!)
    const offsets = frameOffsets(before)
    expect(offsets).toHaveLength(5)
    const framesEnd = frameEnd(before, offsets[offsets.length - 1]!)

    const t = Store.open({ dataDir: dir })
    expect(t.query(Region.all()).map((e) => e.payload)).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })))
    t.append(at, K, { i: 5 }) // plain: still fits the version-1 segment
    expect(segments(dir)).toHaveLength(1)
    t.append(at, K, { i: 6 }, { tags: ['student:s1'], occurredAt: new Date('2024-01-02T03:04:05.678Z') })
    expect(segments(dir)).toHaveLength(2)
    t.close()

    const after = fs.readFileSync(v1!)
    expect(after.readUInt32LE(VERSION_AT)).toBe(1)
    // The header and every frame it had are as they were (the frontier slots, 64..128, move on).
    expect(after.subarray(0, 64).equals(before.subarray(0, 64))).toBe(true)
    expect(after.subarray(HEADER, framesEnd).equals(before.subarray(HEADER, framesEnd))).toBe(true)
    for (const o of frameOffsets(after)) expect(extensionOffset(after, o), 'no extension frame in a version-1 segment').toBe(-1)
    expect(fs.readFileSync(segments(dir)[1]!).readUInt32LE(VERSION_AT)).toBe(2)

    const u = Store.open({ dataDir: dir })
    try {
      expect(u.query(Region.all()).map((e) => (e.payload as { i: number }).i)).toEqual([0, 1, 2, 3, 4, 5, 6])
      const tagged = u.readFiltered({ tags: ['student:s1'] })
      expect(tagged.map((e) => e.payload)).toEqual([{ i: 6 }])
      expect(tagged[0]!.tags).toEqual(['student:s1'])
      expect(tagged[0]!.occurredAt.toISOString()).toBe('2024-01-02T03:04:05.678Z')
    } finally {
      u.close()
    }
  })

  it('refuses a segment of a newer format version with an error naming the versions, instead of misreading it', () => {
    const dir = tempDir('v3')
    const s = Store.open({ dataDir: dir })
    s.append(at, K, { i: 0 })
    s.close()
    setHeaderVersion(segments(dir)[0]!, 3)
    expect(() => Store.open({ dataDir: dir })).toThrow(/format version 3 is not supported \(this build reads versions 1 to 2\)/)
  })

  it('reports a damaged extension block as corruption, never returns the event without its tags', () => {
    const dir = tempDir('ext-damage')
    const s = Store.open({ dataDir: dir })
    const r = s.append(at, K, { i: 0 }, { tags: ['course:c1', 'student:s1'], occurredAt: 1_700_000_000_000, durable: true })
    s.close()
    const file = segments(dir)[0]!
    const b = fs.readFileSync(file)
    const [o] = frameOffsets(b)
    const x = extensionOffset(b, o!)
    expect(x).toBeGreaterThan(0)
    b[x + 16] = b[x + 16]! ^ 0x01 // a byte of the first tag; the frame's CRC is left as it was
    fs.writeFileSync(file, b)
    fs.rmSync(`${dir}/index.ckpt`, { force: true })
    // The frame is below the synced end: recovery may not take it for a torn write.
    expect(() => Store.open({ dataDir: dir })).toThrow(CorruptionError)
  })
})
