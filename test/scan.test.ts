import * as fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { Coordinate, CorruptionError, EventBatch, EventKind, InvalidArgumentError, Region, Store } from '../src/index.js'
import { frameOffsets, segmentFiles, tempDir } from './helpers.js'

const A = EventKind.custom(1, 1)
const B = EventKind.custom(1, 2)

function filled(dir: string, n: number, segmentMaxBytes?: number): Store {
  const s = Store.open({ dataDir: dir, ...(segmentMaxBytes ? { segmentMaxBytes } : {}) })
  for (let i = 0; i < n; i++) s.append(new Coordinate(`e${i % 7}`, `s${i % 3}`), i % 2 ? A : B, { i, note: 'x'.repeat(i % 50) })
  return s
}

function viaScan(s: Store, region: Region, batchSize: number, fromSequence?: bigint): unknown[] {
  const out: unknown[] = []
  for (const b of s.scan(region, { batchSize, ...(fromSequence !== undefined ? { fromSequence } : {}) })) {
    expect(b).toBeInstanceOf(EventBatch)
    expect(b.length).toBeGreaterThan(0)
    expect(b.length).toBeLessThanOrEqual(batchSize)
    for (let i = 0; i < b.length; i++) out.push(b.event(i).toJSON())
  }
  return out
}

describe('scan', () => {
  it('loses or repeats no event at batch boundaries: the same events as query, in order', () => {
    const s = filled(tempDir(), 250, 8192) // several segments
    for (const region of [Region.all(), Region.scope('s1'), Region.all().withFact(A), Region.entity('e3')]) {
      const want = s.query(region).map((e) => e.toJSON())
      for (const size of [1, 7, 64, 4096]) expect(viaScan(s, region, size)).toEqual(want)
    }
    s.close()
  })

  it('batch accessors agree with the StoredEvent fields they stand for', () => {
    const s = filled(tempDir(), 40)
    const events = s.query(Region.all())
    let k = 0
    for (const b of s.scan(Region.all(), { batchSize: 16 })) {
      for (let i = 0; i < b.length; i++, k++) {
        const e = events[k]!
        expect(b.globalSequence(i)).toBe(e.globalSequence)
        expect(b.kindValue(i)).toBe(e.kind.value)
        expect(b.kind(i)).toBe(e.kind)
        expect(b.clock(i)).toBe(e.clock)
        expect(b.timestampUs(i)).toBe(e.timestampUs)
        expect(b.coordinate(i)).toBe(e.coordinate)
        expect(b.payload(i)).toEqual(e.payload)
        expect(Buffer.from(b.payloadBytes(i))).toEqual(Buffer.from(e.payloadBytes))
        expect(b.tombstoned(i)).toBe(false)
      }
      expect([...b].map((e) => e.eventId)).toEqual(events.slice(k - b.length, k).map((e) => e.eventId))
    }
    expect(k).toBe(40)
    s.close()
  })

  it('starts at fromSequence and ends at the events present when it began', () => {
    const s = filled(tempDir(), 30)
    expect(viaScan(s, Region.all(), 4, 25n)).toEqual(s.query(Region.all()).slice(25).map((e) => e.toJSON()))
    let seen = 0
    for (const b of s.scan(Region.all(), { batchSize: 10 })) {
      seen += b.length
      s.append(new Coordinate('late', 's'), A, { late: true })
    }
    expect(seen).toBe(30)
    expect(s.stats().events).toBe(33)
    s.close()
  })

  it('refuses bad arguments with InvalidArgumentError and a stable code', () => {
    const s = filled(tempDir(), 3)
    const bad: Array<() => unknown> = [
      () => s.scan({} as Region),
      () => s.scan(Region.all(), { batchSize: 0 }),
      () => s.scan(Region.all(), { batchSize: 1.5 }),
      () => s.scan(Region.all(), { fromSequence: -1n }),
      () => s.scan(Region.all(), { fromSequence: 3 as unknown as bigint }),
      () => s.scan(Region.all(), null as unknown as undefined),
      () => [...s.scan(Region.all())][0]!.clock(3),
    ]
    for (const f of bad) {
      expect(f).toThrow(InvalidArgumentError)
      try {
        f()
      } catch (e) {
        expect((e as InvalidArgumentError).code).toBe('E_INVALID_ARGUMENT')
      }
    }
    s.close()
    expect(() => s.scan(Region.all())).toThrow(/closed/)
  })

  it('returns no unverified frame: a flipped payload byte in a sealed segment fails the scan', () => {
    const dir = tempDir()
    filled(dir, 60, 4096).close()
    const seg = segmentFiles(dir)[1]!
    const victim = frameOffsets(fs.readFileSync(seg))[0]!
    const b = fs.readFileSync(seg)
    b[victim.at + victim.len - 3]! ^= 0x80
    fs.writeFileSync(seg, b)
    const s = Store.open({ dataDir: dir, segmentMaxBytes: 4096 })
    expect(() => {
      for (const batch of s.scan(Region.all(), { batchSize: 5 })) void batch.length
    }).toThrow(CorruptionError)
    s.close()
  })
})
